/* The rules a package must pass against the running image before
 * anything of it is loaded or written. Each rule is a function of its
 * arguments only; hp_verify_target() reads the target's code once and
 * applies them in order. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_core.h"

#define NOP5 0x9090909090ull

int hp_rule_entry_layout(const struct hp_manifest_func *f, char *err, size_t errlen)
{
	uint32_t eo = f->entry_offset;
	int want_endbr = !!(f->flags & HP_PKG_FUNC_ENDBR);

	if (eo == (want_endbr ? 4u : 0u) && f->expected_size >= eo + 2)
		return 0;
	hp_seterr(err, errlen,
		  "function '%s' (%s): entry offset %u / expected size %u do not fit its endbr64 "
		  "flag",
		  f->name, f->tu, eo, f->expected_size);
	return -HP_ENOTPATCHABLE;
}

int hp_rule_in_image(const struct hp_manifest_func *f, const struct hp_image *img, char *err,
		     size_t errlen)
{
	/* from the padding's quadword (the bias is page-aligned) */
	uint64_t from = (f->target_offset - HP_PAD_BYTES) & ~7ull;

	if (f->target_offset >= 8 &&
	    hp_image_contains(img, from, f->target_offset - from + f->expected_size, PF_X))
		return 0;
	hp_seterr(err, errlen,
		  "function '%s' (%s): target offset %#llx (+%u bytes) lies outside the "
		  "executable segments of %s",
		  f->name, f->tu, (unsigned long long)f->target_offset, f->expected_size,
		  img->name);
	return -HP_EOUTSIDE;
}

int hp_rule_aligned(const struct hp_manifest_func *f, uintptr_t sym, char *err, size_t errlen)
{
	if (hp_in_one_quad(sym - HP_PAD_BYTES, HP_PAD_BYTES) &&
	    hp_in_one_quad(sym + f->entry_offset, 2))
		return 0;
	hp_seterr(err, errlen,
		  "function '%s' (%s) at %#lx is not patchable: its padding or entry spans two "
		  "aligned quadwords",
		  f->name, f->tu, (unsigned long)sym);
	return -HP_ENOTPATCHABLE;
}

int hp_rule_expected_bytes(const struct hp_manifest_func *f, const uint8_t *code, char *err,
			   size_t errlen)
{
	if (hp_pkg_checksum(code, f->expected_size) == f->expected_hash)
		return 0;
	hp_seterr(err, errlen,
		  "function '%s' (%s): code differs from what the patch was built against "
		  "(expected-bytes hash mismatch)",
		  f->name, f->tu);
	return -HP_EMISMATCH;
}

int hp_rule_prepared(const struct hp_manifest_func *f, const uint8_t *code, uint64_t pad, char *err,
		     size_t errlen)
{
	static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	int want_endbr = !!(f->flags & HP_PKG_FUNC_ENDBR);
	/* A first instruction of the compiler's own (ENTRY_INSN) may be any
	 * instruction of 2 bytes or more. */
	int any_entry = !!(f->flags & HP_PKG_FUNC_ENTRY_INSN);
	uint16_t entry;

	memcpy(&entry, code + f->entry_offset, 2);
	if (pad == NOP5 && (any_entry || entry == 0x9066 || entry == 0x9090) &&
	    (!want_endbr || memcmp(code, endbr, 4) == 0))
		return 0;
	hp_seterr(err, errlen,
		  "function '%s' (%s) is not patchable: needs 5 NOPs before it and a 2-byte NOP "
		  "at its entry%s (built without the hotpatch plugin?)",
		  f->name, f->tu, want_endbr ? " after endbr64" : "");
	return -HP_ENOTPATCHABLE;
}

int hp_rule_untouched(const struct hp_manifest_func *f, const struct hp_site *s, uint64_t pad,
		      uint16_t entry, char *err, size_t errlen)
{
	if (pad == s->cur_pad && entry == (s->nlayers ? s->jmp_entry : s->orig_entry))
		return 0;
	hp_seterr(err, errlen,
		  "function '%s' (%s): patched code was modified behind the runtime's back",
		  f->name, f->tu);
	return -HP_ENOTPATCHABLE;
}

int hp_rule_unique(const struct hp_manifest *m, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->func_count; i++)
		for (size_t j = 0; j < i; j++)
			if (m->funcs[j].target_offset == m->funcs[i].target_offset) {
				hp_seterr(err, errlen,
					  "function '%s' is replaced twice in one package",
					  m->funcs[i].name);
				return -HP_EFORMAT;
			}
	return 0;
}

int hp_rule_proxies(const struct hp_manifest *m, const struct hp_image *img, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < m->proxy_count; i++) {
		const struct hp_manifest_proxy *p = &m->proxies[i];

		if (!hp_image_contains(img, p->target_offset, 1, 0)) {
			hp_seterr(err, errlen,
				  "proxy '%s' (%s): target offset %#llx lies outside the segments "
				  "of %s",
				  p->name, p->tu, (unsigned long long)p->target_offset, img->name);
			return -HP_EOUTSIDE;
		}
	}
	return 0;
}

/* One function: where it is, then its bytes, then its layout (or, when
 * patched before, that nobody else wrote there). */
static int verify_func(const struct hp_image *img, const struct hp_manifest_func *f,
		       struct hp_site **existing, char *err, size_t errlen)
{
	uintptr_t sym = img->bias + f->target_offset;
	uint64_t pad;
	uint16_t entry;
	uint8_t *code;
	int ret;

	*existing = NULL;
	if ((ret = hp_rule_entry_layout(f, err, errlen)) ||
	    (ret = hp_rule_in_image(f, img, err, errlen)) ||
	    (ret = hp_rule_aligned(f, sym, err, errlen)))
		return ret;
	code = malloc(f->expected_size);
	if (!code) {
		hp_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < f->expected_size; i++)
		code[i] = hp_code_ptr(sym)[i];
	pad = hp_load_in_quad(sym - HP_PAD_BYTES, HP_PAD_BYTES);
	entry = (uint16_t)hp_load_in_quad(sym + f->entry_offset, 2);
	*existing = hp_site_find(sym);
	/* Already patched by us: compare against the code as built. */
	if (*existing)
		memcpy(code + f->entry_offset, &(*existing)->orig_entry, 2);
	ret = hp_rule_expected_bytes(f, code, err, errlen);
	if (!ret)
		ret = *existing ? hp_rule_untouched(f, *existing, pad, entry, err, errlen)
				: hp_rule_prepared(f, code, pad, err, errlen);
	free(code);
	return ret;
}

int hp_verify_target(const struct hp_manifest *m, const struct hp_image *img,
		     struct hp_site **existing, char *err, size_t errlen)
{
	int ret = hp_rule_unique(m, err, errlen);

	for (size_t i = 0; !ret && i < m->func_count; i++)
		ret = verify_func(img, &m->funcs[i], &existing[i], err, errlen);
	return ret ? ret : hp_rule_proxies(m, img, err, errlen);
}
