/* The machine-code comparison in the pipeline (see diff.h).
 *
 * For a function the plugin describes, the post-optimisation hash is the
 * authority: it covers everything the code generator reads from the IR
 * (instructions, attributes, private constants by content), so the same
 * hash under the same compile command gives the same machine code, and
 * what the hash names by name (globals, callees) is checked elsewhere
 * (variables by size and initial value, signatures by DWARF). Its machine
 * code is compared only when an input outside the IR changed: the
 * compiler, the plugin or a compile option (-mcmodel=large, -mllvm ...).
 * Comparing it always, with the byte heuristic, included every function
 * with an inlined strlen-like helper whose "" literal ran into a moved
 * jump table.
 *
 * A function without metadata (assembly, a vendored library built
 * plainly) is compared exactly when both builds kept their relocations
 * (-Wl,--emit-relocs); without them the heuristic cannot tell a moved
 * address from a change, and a difference is refused as such. */
#define _GNU_SOURCE /* asprintf */
#include "diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>

#include "check.h"
#include "machcode.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted addresses of the functions p's metadata describes. */
static uint64_t *described(const struct mp_program *p, size_t *n)
{
	uint64_t *a = malloc(sizeof(*a) * (p->nfuncs + 1));
	if (!a)
		return NULL;
	*n = 0;
	for (uint32_t i = 0; i < p->nfuncs; i++)
		if (p->funcs[i].address)
			a[(*n)++] = p->funcs[i].address;
	qsort(a, *n, sizeof(*a), cmp_u64);
	return a;
}

static bool is_described(const uint64_t *a, size_t n, uint64_t addr)
{
	return bsearch(&addr, a, n, sizeof(*a), cmp_u64) != NULL;
}

static bool in_code(const struct mp_elf *e, uint64_t addr, uint64_t size)
{
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct mp_elf_section *s = &e->secs[i];
		if (s->exec && s->data && addr >= s->addr && addr - s->addr <= s->size &&
		    size <= s->size - (addr - s->addr))
			return true;
	}
	return false;
}

/* 1 when the code at the two addresses differs beyond moved addresses, 0
 * when it is the same, -ENOMEM. Unreadable code counts as differing. */
static int code_differs(const struct mp_elf *oe, uint64_t oa, uint64_t os, const struct mp_elf *ne,
			uint64_t na, uint64_t ns)
{
	struct mp_mc_func o = {oe, oa, os, mp_elf_bytes_at(oe, oa, os)};
	struct mp_mc_func n = {ne, na, ns, mp_elf_bytes_at(ne, na, ns)};
	if (!o.bytes || !n.bytes)
		return 1;
	bool ok;
	bool same = mp_mc_same(&o, &n, &ok);
	return !ok ? -ENOMEM : !same;
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Arguments that name files, not code generation: the output and
 * dependency files (-o X, -MF X, -Wp,-MD,X), the plugin's own path (its
 * version is compared instead) and every non-option (sources, and the
 * values of split options like -I DIR, which only reach the IR). */
static bool is_path_arg(const char *a)
{
	static const char *const prefixes[] = {
		"-o",	"-MF",	    "-MT",	 "-MQ",	      "-MD",
		"-MMD", "-Wp,-MD,", "-Wp,-MMD,", "-fplugin=", "-fpass-plugin="};
	if (a[0] != '-')
		return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (!strncmp(a, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static const char *next_option(const struct mp_tu *t, uint32_t *k)
{
	while (*k < t->argc && is_path_arg(t->argv[*k]))
		(*k)++;
	return *k < t->argc ? t->argv[(*k)++] : NULL;
}

/* An input of the machine code that the hash does not cover changed. */
static bool codegen_inputs_changed(const struct mp_tu *o, const struct mp_tu *n)
{
	if (!str_eq(o->compiler_version, n->compiler_version) ||
	    !str_eq(o->plugin_version, n->plugin_version) || o->flags != n->flags)
		return true;
	uint32_t ko = 0, kn = 0;
	for (;;) {
		const char *ao = next_option(o, &ko), *an = next_option(n, &kn);
		if (!ao || !an)
			return ao != an;
		if (strcmp(ao, an))
			return true;
	}
}

/* (a) A function the plugin describes whose hash kept still joins S when
 * its compile command changed and its code did too. */
static int compare_described(struct mp_program *old, struct mp_program *new, struct mp_findings *fi)
{
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i], *o = f->twin;
		if (f->status != MP_SAME || !o || !f->address || !o->address || !f->size ||
		    !o->size || !codegen_inputs_changed(o->tu, f->tu))
			continue;
		int d = code_differs(&old->elf, o->address, o->size, &new->elf, f->address,
				     f->size);
		if (d < 0)
			return d;
		if (!d)
			continue;
		f->status = o->status = MP_CHANGED;
		f->why |= MP_WHY_MACHINE;
		int err = mp_warn(fi,
				  "machine code of %s (%s) changed although its IR hash did "
				  "not (its compile command or compiler changed): included",
				  f->name, f->tu->source);
		if (err)
			return err;
	}
	return 0;
}

/* OLD's function symbol matching NEW's s: same name, and for a local the
 * same FILE symbol; not one the metadata describes. */
static const struct mp_sym *old_twin(const struct mp_elf *oe, const uint64_t *odesc, size_t nodesc,
				     const struct mp_sym *s)
{
	for (size_t i = 0; i < oe->nsyms; i++) {
		const struct mp_sym *c = &oe->syms[i];
		if (c->type == STT_FUNC && c->size &&
		    (c->bind == STB_LOCAL) == (s->bind == STB_LOCAL) && !strcmp(c->name, s->name) &&
		    !strcmp(c->file, s->file) && !is_described(odesc, nodesc, c->value))
			return c;
	}
	return NULL;
}

/* "A, B, C and 15 more" (at most `shown` names, all of them when 0), or
 * NULL on out of memory. */
static char *name_list(const char *const *names, size_t n, size_t shown)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	size_t k = shown && shown < n ? shown : n;
	for (size_t i = 0; i < k; i++)
		fprintf(f, "%s%s", i ? (i + 1 == n ? " and " : ", ") : "", names[i]);
	if (k < n)
		fprintf(f, " and %zu more", n - k);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

#define INEXACT                                                                                    \
	"built without the hotpatch plugin and differing: %s; cannot be compared exactly: %s "     \
	"linked without -Wl,--emit-relocs, so a moved address looks like a change"

/* Without relocations every plain-built function whose bytes differ is
 * suspect (nginx with Debian's static PCRE2: 18 after a one-function fix):
 * one refusal names the cause and the first few; --json lists them all. */
static int refuse_inexact(struct mp_findings *fi, const char *const *names, size_t n,
			  const char *lacking)
{
	char *some = name_list(names, n, 3), *all = name_list(names, n, 0), *detail = NULL;
	int err = some && all && asprintf(&detail, INEXACT, all, lacking) >= 0 ? 0 : -ENOMEM;
	if (!err)
		err = mp_refuse_detailed(fi, detail, INEXACT, some, lacking);
	free(detail);
	free(some);
	free(all);
	return err;
}

/* (b) A function without metadata (assembly, an object built without the
 * plugin) cannot be replaced: a change there is refused, naming it. */
static int compare_undescribed(const struct mp_program *old, const struct mp_program *new,
			       struct mp_findings *fi)
{
	size_t nn, no, ninexact = 0;
	uint64_t *ndesc = described(new, &nn), *odesc = described(old, &no);
	const char **inexact = malloc(sizeof(*inexact) * (new->elf.nsyms + 1));
	int err = ndesc && odesc && inexact ? 0 : -ENOMEM;
	uint64_t last = 0;
	bool exact = mp_mc_exact(&old->elf) && mp_mc_exact(&new->elf);
	for (size_t i = 0; !err && i < new->elf.nsyms; i++) {
		const struct mp_sym *s = &new->elf.syms[i];
		if (s->type != STT_FUNC || !s->size || s->value == last ||
		    !in_code(&new->elf, s->value, s->size) || is_described(ndesc, nn, s->value))
			continue;
		const struct mp_sym *o = old_twin(&old->elf, odesc, no, s);
		if (!o)
			continue; /* new: only changed code can reach it */
		int d = code_differs(&old->elf, o->value, o->size, &new->elf, s->value, s->size);
		if (d < 0) {
			err = d;
		} else if (d && exact) {
			last = s->value;
			err = mp_refuse(fi,
					"'%s' changed but was not built with the hotpatch plugin "
					"(not patchable)",
					s->name);
		} else if (d) {
			last = s->value;
			inexact[ninexact++] = s->name;
		}
	}
	if (!err && ninexact)
		err = refuse_inexact(fi, inexact, ninexact,
				     !mp_mc_exact(&old->elf) && !mp_mc_exact(&new->elf)
					     ? "OLD and NEW were"
				     : !mp_mc_exact(&old->elf) ? "OLD was"
							       : "NEW was");
	free(inexact);
	free(ndesc);
	free(odesc);
	return err;
}

int mp_compare_machine_code(struct mp_program *old, struct mp_program *new, struct mp_findings *fi)
{
	int err = 0;
	if (mp_mc_exact(&old->elf) && mp_mc_exact(&new->elf)) {
		err = mp_mc_index(&old->elf);
		if (!err)
			err = mp_mc_index(&new->elf);
	}
	if (!err)
		err = compare_described(old, new, fi);
	return err ? err : compare_undescribed(old, new, fi);
}
