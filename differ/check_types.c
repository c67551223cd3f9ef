/* Type checks from DWARF: the layout of every struct that P's functions
 * reach through their globals and parameters, and the signatures of P's
 * functions that unchanged code still calls.
 *
 * A type is described as text, following typedefs; a struct appears in a
 * description by name only ("struct conn") and its layout ("24{fd@0:int;
 * buf@8:char*}") is compared separately, once per struct, which names the
 * culprit precisely and terminates on recursive types. */
#define _GNU_SOURCE
#include <dwarf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mp_dwarf.h"
#include "hp_metadata_format.h"

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->oom)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Struct names met while describing, to compare their layouts next. */
struct names {
	const char **v;
	size_t n, cap;
};

static void names_add(struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], name))
			return;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		void *p = realloc(ns->v, cap * sizeof(*ns->v));
		if (!p)
			return;
		ns->v = p;
		ns->cap = cap;
	}
	ns->v[ns->n++] = name;
}

static const char *tag_word(uint16_t tag)
{
	return tag == DW_TAG_union_type		? "union"
	       : tag == DW_TAG_enumeration_type ? "enum"
						: "struct";
}

static void describe(const struct mp_dwarf *dw, uint64_t off, struct strbuf *b, struct names *ns,
		     unsigned depth);

static void describe_layout(const struct mp_dwarf *dw, const struct mp_die *m, struct strbuf *b,
			    struct names *ns, unsigned depth)
{
	sb_add(b, "%llu{", (unsigned long long)m->byte_size);
	for (uint32_t c = m->first_child; c != MP_DIE_NONE; c = dw->dies[c].next_sibling) {
		const struct mp_die *f = &dw->dies[c];
		if (f->tag == DW_TAG_member) {
			sb_add(b, "%s@%llu", f->name, (unsigned long long)f->member_offset);
			if (f->bit_size)
				sb_add(b, ".%llu:%llu", (unsigned long long)f->bit_offset,
				       (unsigned long long)f->bit_size);
			sb_add(b, ":");
			describe(dw, f->type, b, ns, depth + 1);
			sb_add(b, ";");
		} else if (f->tag == DW_TAG_enumerator) {
			sb_add(b, "%s;", f->name);
		}
	}
	sb_add(b, "}");
}

static void describe_array(const struct mp_dwarf *dw, const struct mp_die *m, struct strbuf *b,
			   struct names *ns, unsigned depth)
{
	describe(dw, m->type, b, ns, depth + 1);
	for (uint32_t c = m->first_child; c != MP_DIE_NONE; c = dw->dies[c].next_sibling) {
		const struct mp_die *r = &dw->dies[c];
		if (r->tag == DW_TAG_subrange_type)
			sb_add(b, r->has_count ? "[%llu]" : "[]", (unsigned long long)r->count);
	}
}

static void describe_function(const struct mp_dwarf *dw, const struct mp_die *m, struct strbuf *b,
			      struct names *ns, unsigned depth)
{
	describe(dw, m->type, b, ns, depth + 1);
	sb_add(b, "(");
	bool first = true;
	for (uint32_t c = m->first_child; c != MP_DIE_NONE; c = dw->dies[c].next_sibling) {
		const struct mp_die *p = &dw->dies[c];
		if (p->tag == DW_TAG_formal_parameter) {
			sb_add(b, first ? "" : ", ");
			describe(dw, p->type, b, ns, depth + 1);
		} else if (p->tag == DW_TAG_unspecified_parameters) {
			sb_add(b, first ? "..." : ", ...");
		} else {
			continue;
		}
		first = false;
	}
	sb_add(b, ")");
}

static void describe(const struct mp_dwarf *dw, uint64_t off, struct strbuf *b, struct names *ns,
		     unsigned depth)
{
	const struct mp_die *m = off ? mp_dwarf_die_at(dw, off) : NULL;
	if (!m) {
		sb_add(b, "void");
		return;
	}
	if (depth > 32) {
		sb_add(b, "...");
		return;
	}
	switch (m->tag) {
	case DW_TAG_base_type:
		sb_add(b, "%s", m->name);
		break;
	case DW_TAG_pointer_type:
		describe(dw, m->type, b, ns, depth + 1);
		sb_add(b, "*");
		break;
	case DW_TAG_const_type:
		sb_add(b, "const ");
		describe(dw, m->type, b, ns, depth + 1);
		break;
	case DW_TAG_volatile_type:
		sb_add(b, "volatile ");
		describe(dw, m->type, b, ns, depth + 1);
		break;
	case DW_TAG_typedef: {
		/* typedef struct { ... } name_t (nginx's ngx_http_status_t):
		 * named by the typedef, its layout compared like a named
		 * struct's, so that a new field is a layout change of shared
		 * state and not a change of every signature that mentions it */
		const struct mp_die *t = m->type ? mp_dwarf_die_at(dw, m->type) : NULL;
		if (t && !*t->name &&
		    (t->tag == DW_TAG_structure_type || t->tag == DW_TAG_union_type)) {
			sb_add(b, "%s %s", tag_word(t->tag), m->name);
			names_add(ns, m->name);
			break;
		}
		describe(dw, m->type, b, ns, depth + 1);
		break;
	}
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
		describe(dw, m->type, b, ns, depth + 1);
		break;
	case DW_TAG_array_type:
		describe_array(dw, m, b, ns, depth);
		break;
	case DW_TAG_subroutine_type:
		describe_function(dw, m, b, ns, depth);
		break;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		if (*m->name) {
			sb_add(b, "%s %s", tag_word(m->tag), m->name);
			if (m->tag != DW_TAG_enumeration_type)
				names_add(ns, m->name);
			else
				sb_add(b, ":%llu", (unsigned long long)m->byte_size);
		} else {
			sb_add(b, "%s", tag_word(m->tag));
			describe_layout(dw, m, b, ns, depth);
		}
		break;
	default:
		sb_add(b, "?%u", m->tag);
	}
}

struct side {
	const struct mp_program *p;
	struct mp_dwarf dw;
};

static const struct mp_die *find_type(const struct side *s, uint32_t cu, const char *name)
{
	const char *cu_name = s->dw.dies[cu].name;
	char key[512];
	static const char *const kinds[] = {"struct", "union", "typedef"};
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "%s %s", kinds[i], name);
		uintptr_t idx = (uintptr_t)mp_map_get(&s->dw.types, key, cu_name);
		if (idx)
			return &s->dw.dies[idx - 1];
	}
	return NULL;
}

/* First member that differs between two layouts, for the message. */
static void member_diff(const struct mp_dwarf *ow, const struct mp_die *o,
			const struct mp_dwarf *nw, const struct mp_die *n, char *out, size_t size)
{
	if (o->byte_size != n->byte_size) {
		snprintf(out, size, "size changed from %llu to %llu bytes",
			 (unsigned long long)o->byte_size, (unsigned long long)n->byte_size);
		return;
	}
	uint32_t oc = o->first_child, nc = n->first_child;
	for (; nc != MP_DIE_NONE; nc = nw->dies[nc].next_sibling) {
		const struct mp_die *nf = &nw->dies[nc];
		if (nf->tag != DW_TAG_member)
			continue;
		const struct mp_die *of = NULL;
		for (uint32_t c = o->first_child; c != MP_DIE_NONE; c = ow->dies[c].next_sibling)
			if (ow->dies[c].tag == DW_TAG_member && !strcmp(ow->dies[c].name, nf->name))
				of = &ow->dies[c];
		if (!of) {
			snprintf(out, size, "field '%s' added", nf->name);
			return;
		}
		if (of->member_offset != nf->member_offset || of->bit_offset != nf->bit_offset) {
			snprintf(out, size, "field '%s' moved from offset %llu to %llu", nf->name,
				 (unsigned long long)of->member_offset,
				 (unsigned long long)nf->member_offset);
			return;
		}
	}
	(void)oc;
	snprintf(out, size, "fields changed (a field removed, renamed or retyped)");
}

/* Compares the struct layouts in ns (growing as layouts name more);
 * returns a malloc'ed description of the first difference, or NULL. */
static char *compare_structs(const struct side *o, uint32_t ocu, const struct side *n, uint32_t ncu,
			     struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		const struct mp_die *od = find_type(o, ocu, ns->v[i]);
		const struct mp_die *nd = find_type(n, ncu, ns->v[i]);
		if (!od || !nd)
			continue; /* opaque here, or new: nothing old to mismatch */
		struct strbuf ob = {0}, nb = {0};
		describe_layout(&o->dw, od, &ob, ns, 0);
		describe_layout(&n->dw, nd, &nb, ns, 0);
		char *msg = NULL;
		if (ob.s && nb.s && strcmp(ob.s, nb.s)) {
			char why[256];
			member_diff(&o->dw, od, &n->dw, nd, why, sizeof(why));
			if (asprintf(&msg, "%s %s: %s", tag_word(nd->tag), ns->v[i], why) < 0)
				msg = NULL;
		}
		free(ob.s);
		free(nb.s);
		if (msg)
			return msg;
	}
	return NULL;
}

static const struct mp_die *find_top(const struct side *s, uint32_t cu, const char *name)
{
	uintptr_t idx = (uintptr_t)mp_map_get(&s->dw.top, name, s->dw.dies[cu].name);
	return idx ? &s->dw.dies[idx - 1] : NULL;
}

/* Is DIE i below DIE start? DIEs are stored in pre-order, so a walk from
 * start + 1 ends at the first that is not. */
static bool in_subtree(const struct mp_dwarf *dw, uint32_t i, uint32_t start)
{
	if (i >= dw->ndies)
		return false;
	uint32_t a = dw->dies[i].parent;
	while (a != MP_DIE_NONE && a != start)
		a = dw->dies[a].parent;
	return a == start;
}

/* A function's static local: a variable DIE named name under the owner. */
static const struct mp_die *find_local(const struct mp_dwarf *dw, const struct mp_die *fn,
				       const char *name)
{
	uint32_t start = (uint32_t)(fn - dw->dies);
	for (uint32_t i = start + 1; in_subtree(dw, i, start); i++) {
		const struct mp_die *m = &dw->dies[i];
		if (m->tag == DW_TAG_variable && !strcmp(m->name, name))
			return m;
	}
	return NULL;
}

static const struct mp_die *var_die(const struct side *s, const struct mp_var *v, uint32_t *cu)
{
	*cu = mp_dwarf_find_cu(&s->dw, v->tu->source);
	if (*cu == MP_DIE_NONE)
		return NULL;
	const char *name = *v->source_name ? v->source_name : v->name;
	if (v->flags & HP_MD_VAR_STATIC_LOCAL) {
		const struct mp_die *fn = find_top(s, *cu, v->owner);
		return fn ? find_local(&s->dw, fn, name) : NULL;
	}
	return find_top(s, *cu, name);
}

struct type_diff {
	char *before, *after; /* shallow descriptions, when they differ */
	char *layout;	      /* first struct layout difference */
};

static void type_diff_release(struct type_diff *t)
{
	free(t->before);
	free(t->after);
	free(t->layout);
}

/* Compares what od/nd describe: a variable's type or a function's
 * signature (describe_function on the subprogram DIE). */
static void diff_dies(const struct side *o, const struct mp_die *od, const struct side *n,
		      const struct mp_die *nd, struct type_diff *t)
{
	struct names ns = {0};
	struct strbuf ob = {0}, nb = {0};
	if (od->tag == DW_TAG_subprogram) {
		describe_function(&o->dw, od, &ob, &ns, 0);
		describe_function(&n->dw, nd, &nb, &ns, 0);
	} else {
		describe(&o->dw, od->type, &ob, &ns, 0);
		describe(&n->dw, nd->type, &nb, &ns, 0);
	}
	memset(t, 0, sizeof(*t));
	if (ob.s && nb.s && strcmp(ob.s, nb.s)) {
		t->before = ob.s;
		t->after = nb.s;
	} else {
		free(ob.s);
		free(nb.s);
	}
	t->layout = compare_structs(o, od->cu, n, nd->cu, &ns);
	free(ns.v);
}

static int check_var_type(const struct side *o, const struct side *n, const struct mp_func *user,
			  const struct mp_var *nv, struct mp_findings *fi,
			  struct mp_refusal_groups *layouts)
{
	uint32_t ocu, ncu;
	const struct mp_die *od = var_die(o, nv->twin, &ocu), *nd = var_die(n, nv, &ncu);
	if (!od || !nd)
		return 0;
	struct type_diff t;
	diff_dies(o, od, n, nd, &t);
	int err = 0;
	const char *name = *nv->source_name ? nv->source_name : nv->name;
	if (t.before)
		err = mp_refuse(fi, "type of '%s' (%s), used by '%s', changed from '%s' to '%s'",
				name, nv->tu->source, user->name, t.before, t.after);
	else if (t.layout)
		err = mp_group_refusal(layouts, t.layout, user->name, user->tu->source);
	type_diff_release(&t);
	return err;
}

/* An unchanged function of NEW that still calls f (by name), or NULL. */
static const struct mp_func *unchanged_caller(const struct mp_program *new, const struct mp_func *f)
{
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		const struct mp_func *c = &new->funcs[i];
		if (c->in_p || !c->address)
			continue;
		for (uint32_t k = 0; k < c->ncalls; k++)
			if (mp_find_func(new, c->calls[k], c->tu) == f)
				return c;
	}
	return NULL;
}

static int check_signature(const struct side *o, const struct side *n, struct mp_func *f,
			   struct mp_findings *fi, struct mp_refusal_groups *layouts)
{
	uint32_t ocu = mp_dwarf_find_cu(&o->dw, f->twin->tu->source);
	uint32_t ncu = mp_dwarf_find_cu(&n->dw, f->tu->source);
	if (ocu == MP_DIE_NONE || ncu == MP_DIE_NONE)
		return 0;
	const struct mp_die *od = find_top(o, ocu, f->twin->name), *nd = find_top(n, ncu, f->name);
	if (!od || !nd)
		return 0;
	struct type_diff t;
	diff_dies(o, od, n, nd, &t);
	int err = 0;
	if (t.before) {
		const struct mp_func *c = unchanged_caller(n->p, f);
		if (c)
			err = mp_refuse(fi,
					"signature of '%s' (%s) changed from '%s' to '%s' but '%s' "
					"(%s), unchanged, still calls it",
					f->name, f->tu->source, t.before, t.after, c->name,
					c->tu->source);
		else if (f->flags & HP_MD_FUNC_ADDRESS_TAKEN)
			err = mp_refuse(fi,
					"signature of '%s' (%s) changed from '%s' to '%s' and its "
					"address is taken: old callers may call it indirectly",
					f->name, f->tu->source, t.before, t.after);
		else /* replacing it in place would hand new code old arguments */
			f->beside_old = true;
	} else if (t.layout) {
		err = mp_group_refusal(layouts, t.layout, f->name, f->tu->source);
	}
	type_diff_release(&t);
	return err;
}

/* The struct layouts a replaced function's locals and parameters use: a
 * context reached through a void pointer (nginx's r->ctx[] cast to
 * ngx_http_proxy_ctx_t *) is shared state of the old layout that neither
 * the signature nor a global shows. Every variable and parameter DIE in
 * NEW's subprogram (nested blocks included) names the types to compare. */
static int check_locals(const struct side *o, const struct side *n, const struct mp_func *f,
			struct mp_refusal_groups *layouts)
{
	uint32_t ocu = mp_dwarf_find_cu(&o->dw, f->twin->tu->source);
	uint32_t ncu = mp_dwarf_find_cu(&n->dw, f->tu->source);
	if (ocu == MP_DIE_NONE || ncu == MP_DIE_NONE)
		return 0;
	const struct mp_die *nd = find_top(n, ncu, f->name);
	if (!nd)
		return 0;
	struct names ns = {0};
	uint32_t start = (uint32_t)(nd - n->dw.dies);
	for (uint32_t i = start + 1; in_subtree(&n->dw, i, start); i++) {
		const struct mp_die *m = &n->dw.dies[i];
		if ((m->tag == DW_TAG_variable || m->tag == DW_TAG_formal_parameter) && m->type) {
			struct strbuf ignored = {0};
			describe(&n->dw, m->type, &ignored, &ns, 0);
			free(ignored.s);
		}
	}
	char *layout = compare_structs(o, ocu, n, ncu, &ns);
	free(ns.v);
	int err = layout ? mp_group_refusal(layouts, layout, f->name, f->tu->source) : 0;
	free(layout);
	return err;
}

static int check_func(const struct side *o, const struct side *n, struct mp_func *f,
		      struct mp_findings *fi, struct mp_refusal_groups *layouts)
{
	int err = check_signature(o, n, f, fi, layouts);
	if (!err)
		err = check_locals(o, n, f, layouts);
	for (uint32_t k = 0; !err && k < f->nvars; k++) {
		const struct mp_var *v = mp_find_var(n->p, f->vars[k], f->tu);
		if (v && v->twin && !v->const_changed) /* NEW's copy travels in the patch */
			err = check_var_type(o, n, f, v, fi, layouts);
	}
	return err;
}

int mp_check_types(const struct mp_program *old, struct mp_program *new, struct mp_findings *fi)
{
	bool any = false;
	for (uint32_t i = 0; i < new->nfuncs && !any; i++)
		any = new->funcs[i].in_p &&new->funcs[i].twin;
	if (!any)
		return 0;
	struct side o = {.p = old}, n = {.p = new};
	struct mp_diag d;
	int err = mp_dwarf_load(&o.dw, &old->elf, &d);
	if (!err)
		err = mp_dwarf_load(&n.dw, &new->elf, &d);
	if (err) {
		err = mp_warn(fi, "%s: struct layout and signature checks skipped", d.msg);
		goto out;
	}
	if (!o.dw.ndies || !n.dw.ndies) {
		err = mp_warn(fi,
			      "no DWARF in %s: struct layout and signature checks skipped "
			      "(build with -g)",
			      !o.dw.ndies ? "OLD" : "NEW");
		goto out;
	}
	/* A changed struct is one refusal naming its users, not one per user. */
	struct mp_refusal_groups layouts = {0};
	for (uint32_t i = 0; !err && i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i];
		if (f->in_p && f->twin)
			err = check_func(&o, &n, f, fi, &layouts);
	}
	if (!err)
		err = mp_flush_refusal_groups(
			&layouts, fi,
			"unchanged code and running state use the old layout (keep the struct "
			"and put new fields in a shadow variable: docs/writing-patches.md)");
	mp_refusal_groups_release(&layouts);
out:
	mp_dwarf_release(&n.dw);
	mp_dwarf_release(&o.dw);
	return err;
}
