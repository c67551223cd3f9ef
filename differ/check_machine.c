/* The second opinion in the pipeline (see check.h): every function present
 * in both builds is compared by machine code (machcode.c). */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>

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

/* (a) A function the plugin describes whose hash kept still but whose code
 * changed joins S: never miss a change the hash did not see. */
static int check_described(struct mp_program *old, struct mp_program *new, struct mp_findings *fi)
{
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i], *o = f->twin;
		if (f->status != MP_SAME || !o || !f->address || !o->address || !f->size ||
		    !o->size)
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
				  "not: included",
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

/* (b) A function without metadata (assembly, an object built without the
 * plugin) cannot be replaced: a change there is refused, naming it. */
static int check_undescribed(const struct mp_program *old, const struct mp_program *new,
			     struct mp_findings *fi)
{
	size_t nn, no;
	uint64_t *ndesc = described(new, &nn), *odesc = described(old, &no);
	int err = ndesc && odesc ? 0 : -ENOMEM;
	uint64_t last = 0;
	for (size_t i = 0; !err && i < new->elf.nsyms; i++) {
		const struct mp_sym *s = &new->elf.syms[i];
		if (s->type != STT_FUNC || !s->size || s->value == last ||
		    !in_code(&new->elf, s->value, s->size) || is_described(ndesc, nn, s->value))
			continue;
		const struct mp_sym *o = old_twin(&old->elf, odesc, no, s);
		if (!o)
			continue; /* new: only changed code can reach it */
		int d = code_differs(&old->elf, o->value, o->size, &new->elf, s->value, s->size);
		if (d < 0)
			err = d;
		else if (d) {
			last = s->value;
			err = mp_refuse(fi,
					"'%s' changed but was not built with the hotpatch plugin "
					"(not patchable)",
					s->name);
		}
	}
	free(ndesc);
	free(odesc);
	return err;
}

int mp_check_machine_code(struct mp_program *old, struct mp_program *new, struct mp_findings *fi)
{
	int err = check_described(old, new, fi);
	return err ? err : check_undescribed(old, new, fi);
}
