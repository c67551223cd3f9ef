/* Comparison: the plugin hashes each function's post-optimisation IR, so
 * a differing hash means the machine code may differ for any reason the
 * compiler had (own source, an inlined callee, a constant it propagated). */
#include "diff.h"

#include "hp_metadata_format.h"

static bool var_differs(const struct mp_var *n, const struct mp_var *o)
{
	return n->size != o->size || n->init_hash != o->init_hash ||
	       (n->flags ^ o->flags) & (HP_MD_VAR_TLS | HP_MD_VAR_CONST);
}

/* Data a patch may carry a changed copy of: a writable global that no code
 * writes (the plugin proved it: TU-local, every use reads, no address in
 * its initialiser, nothing in inline assembly names it — nginx's
 * `static u_char ngx_http_server_string[] = "Server: nginx" CRLF`, read only
 * by copies), or one that is read-only, not thread-local, not a proxy
 * slot, and placed in a section that is never written: a const holding addresses (a table of
 * function pointers) lands in .data.rel.ro in a PIE, and patch mode cannot rebuild it (its
 * initialiser would name old symbols), so it stays refused. */
static bool is_const_data(const struct mp_program *p, const struct mp_var *v)
{
	if ((v->flags & (HP_MD_VAR_NEVER_WRITTEN | HP_MD_VAR_TLS | HP_MD_VAR_PROXY)) ==
	    HP_MD_VAR_NEVER_WRITTEN)
		return true; /* writable, but the plugin saw every access read it */
	if ((v->flags & (HP_MD_VAR_CONST | HP_MD_VAR_TLS | HP_MD_VAR_PROXY)) != HP_MD_VAR_CONST)
		return false;
	for (size_t i = 0; i < p->elf.nsecs; i++) {
		const struct mp_elf_section *s = &p->elf.secs[i];
		if (v->address >= s->addr && v->address - s->addr < s->size)
			return !s->write && !s->exec;
	}
	return false;
}

void mp_compare(struct mp_program *old, struct mp_program *new)
{
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i];
		if (!f->address) {
			f->status = MP_SAME; /* discarded by the linker: not in NEW */
		} else if (!f->twin) {
			f->status = MP_NEW;
		} else if (f->hash != f->twin->hash) {
			f->status = MP_CHANGED;
		} else {
			f->status = MP_SAME;
			f->lines_only = f->line_hash != f->twin->line_hash;
		}
	}
	for (uint32_t i = 0; i < old->nfuncs; i++) {
		struct mp_func *f = &old->funcs[i];
		f->status = f->twin ? f->twin->status : MP_GONE;
	}
	for (uint32_t i = 0; i < new->nvars; i++) {
		struct mp_var *v = &new->vars[i];
		if (v->flags & (HP_MD_VAR_PROXY | HP_MD_VAR_DECLARATION))
			continue;
		if (!v->twin)
			v->status = MP_NEW;
		else
			v->status = var_differs(v, v->twin) ? MP_CHANGED : MP_SAME;
		v->const_changed = v->status == MP_CHANGED && is_const_data(new, v) &&
				   is_const_data(old, v->twin);
		if (v->twin)
			v->twin->const_changed = v->const_changed;
	}
}

void mp_compare_include_lines(struct mp_program *new)
{
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i];
		if (f->lines_only && f->status == MP_SAME) {
			f->status = MP_CHANGED;
			f->twin->status = MP_CHANGED;
			f->why |= MP_WHY_LINES;
		}
	}
}
