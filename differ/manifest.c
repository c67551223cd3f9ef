/* The manifest: P and the proxy slots of the linked patch mapped onto
 * OLD; and the package written with it.
 *
 * Every target is given as its link-time address in OLD (st_value), with
 * the hash of OLD's bytes there, so the runtime verifies instead of
 * searching and works on stripped production binaries. */
#define _GNU_SOURCE
#include "build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "hp_package.h"
#include "hp_metadata_format.h"

/* The builder's own message, else the text of its code. */
static const char *builder_reason(const struct hp_pkg_builder *b, int err)
{
	const char *why = hp_pkg_builder_error(b);

	return why && *why ? why : hp_strerror(err);
}

static int add_func(struct hp_pkg_builder *b, const struct mp_program *old,
		    const struct mp_program *pkg, const struct mp_func *f, struct mp_diag *d)
{
	const struct mp_func *o = f->twin;
	const struct mp_tu *ptu = mp_map_get(&pkg->tu_by_source, f->tu->source, "");
	const struct mp_func *r = ptu ? mp_find_func(pkg, f->name, ptu) : NULL;
	if (!r || !r->address)
		return mp_fail(d, HP_ERECOMPILE, "the patch lacks the replacement of '%s' (%s)",
			       f->name, f->tu->source);
	const uint8_t *bytes = mp_elf_bytes_at(&old->elf, o->address, o->size);
	if (!bytes || !o->size || o->size > UINT32_MAX)
		return mp_fail(d, HP_EMALFORMED, "'%s': cannot read the code of '%s'",
			       old->elf.path, o->name);
	struct hp_pkg_func_spec s = {
		.name = o->name,
		.tu = o->tu->source,
		.target_offset = o->address,
		.replacement_offset = r->address,
		.expected_bytes = bytes,
		.expected_size = (uint32_t)o->size,
		.entry_offset = o->entry_offset,
		.flags = (o->flags & HP_MD_FUNC_ENDBR ? HP_PKG_FUNC_ENDBR : 0) |
			 (o->flags & HP_MD_FUNC_ENTRY_INSN ? HP_PKG_FUNC_ENTRY_INSN : 0),
	};
	int err = hp_pkg_builder_add_func(b, &s);
	return err ? mp_fail(d, -err, "adding '%s' to the manifest: %s", o->name,
			     builder_reason(b, err))
		   : 0;
}

/* OLD's address of what a proxy slot in the patch TU ptu must point at. */
static uint64_t resolve_target(const struct mp_program *old, const struct mp_tu *ptu,
			       const char *name)
{
	const struct mp_tu *otu = mp_map_get(&old->tu_by_source, ptu->source, "");
	const struct mp_func *f = mp_find_func(old, name, otu);
	if (f && f->address)
		return f->address;
	const struct mp_var *v = mp_find_var(old, name, otu);
	if (v && v->address)
		return v->address;
	for (size_t i = 0; i < old->elf.nsyms; i++) {
		const struct mp_sym *s = &old->elf.syms[i];
		if (s->shndx && s->bind != 0 && s->value && !strcmp(s->name, name))
			return s->value;
	}
	return 0;
}

/* What a slot holds before it is filled: the offset into its target it
 * must point at. 0 for an ordinary slot; an entry of a compiler-made table
 * (switch.table.f = { &s.a, &s.b }) holds 4 for &s.b (docs/patch-mode.md). */
static uint64_t slot_addend(const struct mp_program *pkg, uint64_t slot)
{
	const uint8_t *p = mp_elf_bytes_at(&pkg->elf, slot, 8);
	uint64_t v = 0;
	if (!p)
		return 0; /* zero-filled (NOBITS); a stray address fails below */
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The hooks the fix defines (hotpatch.h), found in the linked patch by
 * their variables; each names a function of the same TU. */
static int add_hooks(struct hp_pkg_builder *b, const struct mp_program *pkg, struct mp_diag *d)
{
	char fn[256];
	for (uint32_t i = 0; i < pkg->nvars; i++) {
		const struct mp_var *v = &pkg->vars[i];
		uint32_t kind = mp_hook_of_var(v->name, fn, sizeof(fn));
		if (!kind)
			continue;
		const struct mp_func *f = mp_find_func(pkg, fn, v->tu);
		if (!f || !f->address)
			return mp_fail(d, HP_ERECOMPILE,
				       "%s hook '%s' (%s): no function '%s' in the patch",
				       hp_pkg_hook_kind_name(kind), fn, v->tu->source, fn);
		int err = hp_pkg_builder_add_hook(b, kind, fn, f->address);
		if (err)
			return mp_fail(d, -err, "adding hook '%s': %s", fn, builder_reason(b, err));
	}
	return 0;
}

static int add_proxies(struct hp_pkg_builder *b, const struct mp_program *old,
		       const struct mp_program *pkg, struct mp_diag *d)
{
	for (uint32_t i = 0; i < pkg->nvars; i++) {
		const struct mp_var *v = &pkg->vars[i];
		if (!(v->flags & HP_MD_VAR_PROXY))
			continue;
		uint64_t target = resolve_target(old, v->tu, v->name);
		if (!target)
			return mp_fail(d, HP_ERECOMPILE, "proxy target '%s' (%s) not found in '%s'",
				       v->name, v->tu->source, old->elf.path);
		struct hp_pkg_proxy_spec s = {
			.name = v->name,
			.tu = v->tu->source,
			.slot_offset = v->address,
			.target_offset = target + slot_addend(pkg, v->address),
		};
		int err = hp_pkg_builder_add_proxy(b, &s);
		if (err)
			return mp_fail(d, -err, "adding proxy '%s': %s", v->name,
				       builder_reason(b, err));
	}
	return 0;
}

static char *describe(const struct mp_program *new)
{
	size_t cap = 256, len = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "replaces");
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		const struct mp_func *f = &new->funcs[i];
		if (!f->in_p || !f->twin || f->beside_old)
			continue;
		size_t need = len + strlen(f->name) + 4;
		if (need > 4000)
			break;
		if (need > cap) {
			char *p = realloc(s, cap = need * 2);
			if (!p)
				break;
			s = p;
		}
		len += (size_t)snprintf(s + len, cap - len, " %s()", f->name);
	}
	return s;
}

static int fill(struct hp_pkg_builder *b, const struct mp_program *old,
		const struct mp_program *new, const struct mp_program *pkg, const char *name,
		struct mp_diag *d)
{
	if (!old->elf.build_id_size)
		return mp_fail(d, HP_EMALFORMED, "'%s' has no build-id (link with -Wl,--build-id)",
			       old->elf.path);
	char *desc = describe(new);
	int err = hp_pkg_builder_set_target(b, old->elf.build_id, old->elf.build_id_size,
					    old->elf.path);
	if (!err)
		err = hp_pkg_builder_set_name(b, name, desc ? desc : "");
	free(desc);
	if (err)
		return mp_fail(d, -err, "writing the manifest: %s", builder_reason(b, err));
	for (uint32_t i = 0; !err && i < new->nfuncs; i++)
		if (new->funcs[i].in_p &&new->funcs[i].twin && !new->funcs[i].beside_old)
			err = add_func(b, old, pkg, &new->funcs[i], d);
	if (!err)
		err = add_proxies(b, old, pkg, d);
	return err ? err : add_hooks(b, pkg, d);
}

int mp_build_manifest(struct mp_build *b, const struct mp_program *old,
		      const struct mp_program *new, struct mp_diag *d)
{
	int err = mp_program_open(&b->patch, b->so, "patch", d);
	if (err)
		return err == -ENOMEM
			       ? err
			       : mp_fail(d, HP_ERECOMPILE, "reading the linked patch: %s", d->msg);
	b->manifest = hp_pkg_builder_new();
	if (!b->manifest)
		return mp_fail(d, ENOMEM, "out of memory");
	err = fill(b->manifest, old, new, &b->patch, b->opts->name, d);
	if (!err && b->opts->secret_key)
		err = hp_pkg_builder_set_signing_key(b->manifest, b->opts->secret_key);
	return err;
}

int mp_build_write(struct mp_build *b, struct mp_diag *d)
{
	int err = hp_pkg_builder_write(b->manifest, b->so, b->opts->output);
	if (err)
		return mp_fail(d, -err, "writing '%s': %s", b->opts->output,
			       builder_reason(b->manifest, err));
	return 0;
}
