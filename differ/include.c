/* Inclusion: P = S closed over "was inlined into" in OLD.
 *
 * If parse_key() changed and OLD's handle() carries an inlined copy of it,
 * replacing parse_key() alone leaves handle() running the old copy; so
 * handle() joins P, and whatever inlined handle() joins too. NEW's hashes
 * usually show this already (handle()'s IR changed with its inlined copy),
 * but OLD's inlining decisions are what the running code holds. */
#include "diff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_metadata_format.h"

struct edges {
	uint32_t *first, *next, *to; /* per OLD func: list of inliners */
	uint32_t n;
};

static int build_inliners(const struct mp_program *old, struct edges *e)
{
	uint32_t total = 0;
	for (uint32_t i = 0; i < old->nfuncs; i++)
		total += old->funcs[i].ninlined;
	e->first = malloc(sizeof(uint32_t) * (old->nfuncs + 1));
	e->next = malloc(sizeof(uint32_t) * (total + 1));
	e->to = malloc(sizeof(uint32_t) * (total + 1));
	if (!e->first || !e->next || !e->to)
		return -ENOMEM;
	for (uint32_t i = 0; i < old->nfuncs; i++)
		e->first[i] = UINT32_MAX;
	for (uint32_t g = 0; g < old->nfuncs; g++) {
		const struct mp_func *gf = &old->funcs[g];
		for (uint32_t k = 0; k < gf->ninlined; k++) {
			const struct mp_func *h = mp_find_func(old, gf->inlined[k], gf->tu);
			if (!h)
				continue; /* no standalone body: its change shows in g's hash */
			uint32_t hi = (uint32_t)(h - old->funcs);
			e->to[e->n] = g;
			e->next[e->n] = e->first[hi];
			e->first[hi] = e->n++;
		}
	}
	return 0;
}

static void free_edges(struct edges *e)
{
	free(e->first);
	free(e->next);
	free(e->to);
}

/* A changed function f inlines, in NEW or in OLD (its twin): the best
 * explanation of f's change. OLD's list counts as much as NEW's: when the
 * fix grows an inlined static so that it is no longer inlined, NEW's f
 * calls it (a "new function": OLD had no body of it) and only OLD's f
 * names it. */
static const struct mp_func *changed_inlinee(const struct mp_program *new, const struct mp_func *f)
{
	const struct mp_func *const sides[2] = {f, f->twin};
	for (int s = 0; s < 2; s++) {
		for (uint32_t k = 0; sides[s] && k < sides[s]->ninlined; k++) {
			const struct mp_func *h = mp_find_func(new, sides[s]->inlined[k], f->tu);
			if (h && (h->status == MP_CHANGED || h->status == MP_NEW))
				return h;
		}
	}
	return NULL;
}

/* How many functions f inlines have no standalone body in NEW (a static
 * function GCC inlined everywhere): a change to one of them shows only in
 * its inliners' hashes. *first gets the first one. */
static uint32_t bodiless_inlinees(const struct mp_program *new, const struct mp_func *f,
				  const char **first)
{
	uint32_t n = 0;
	*first = NULL;
	for (uint32_t k = 0; k < f->ninlined; k++)
		if (!mp_find_func(new, f->inlined[k], f->tu) && n++ == 0)
			*first = f->inlined[k];
	return n;
}

/* The changed constant f (of program p) reads, or NULL. */
static const struct mp_var *changed_const(const struct mp_program *p, const struct mp_func *f)
{
	for (uint32_t k = 0; k < f->nvars; k++) {
		const struct mp_var *v = mp_find_var(p, f->vars[k], f->tu);
		if (v && v->const_changed)
			return v;
	}
	return NULL;
}

/* Functions that read changed read-only data join S: the post-optimisation
 * hash names globals, so their hash did not change, but running code
 * addresses OLD's copy and the patch carries NEW's. A NEW user reads NEW's
 * copy; an OLD user (its NEW twin may no longer name it) holds OLD's. */
static void add_const_users(struct mp_program *old, struct mp_program *new)
{
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i];
		if (f->status != MP_SAME || !f->twin || !f->address)
			continue;
		const struct mp_var *v = changed_const(new, f);
		if (!v && (v = changed_const(old, f->twin)))
			v = v->twin;
		if (v) {
			f->why |= MP_WHY_CONST;
			f->cause_var = v;
		}
	}
}

/* GCC's foo.cold (also foo.part.0.cold): the unlikely blocks of foo, moved
 * to .text.unlikely. Nothing calls it; only foo's own body jumps into it,
 * and it jumps back. Older metadata without the FRAGMENT flag: a clone
 * named *.cold without an atomic entry. */
static bool is_fragment(const struct mp_func *f)
{
	size_t n = strlen(f->name);
	return f->flags & HP_MD_FUNC_FRAGMENT ||
	       (f->flags & HP_MD_FUNC_CLONE && !(f->flags & HP_MD_FUNC_PATCHABLE) && n > 5 &&
		!strcmp(f->name + n - 5, ".cold"));
}

/* A fragment whose origin is replaced is replaced with it: the new origin
 * jumps into its own new fragment, and a thread still in the old fragment
 * jumps back into the old origin, which stays as it was. A fragment whose
 * origin is not in P stays in P and is refused (not patchable). */
static void fragment_follows_origin(struct mp_program *new, struct mp_func *f)
{
	if (!f->in_p || !f->twin || !is_fragment(f) || !*f->origin)
		return;
	const struct mp_func *origin = mp_find_func(new, f->origin, f->tu);
	if (!origin || !origin->in_p || is_fragment(origin))
		return;
	f->in_p = false;
	f->with_origin = origin;
}

int mp_include(struct mp_program *old, struct mp_program *new, struct mp_diff_stats *st)
{
	struct edges e = {0};
	uint32_t *work = malloc(sizeof(uint32_t) * (new->nfuncs + 1));
	int err = work ? build_inliners(old, &e) : -ENOMEM;
	if (err)
		goto out;
	uint32_t nwork = 0;
	add_const_users(old, new);
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i];
		if (f->why & (MP_WHY_CONST | MP_WHY_MACHINE | MP_WHY_LINES)) {
			/* joins S with its reason set by add_const_users,
			 * mp_compare_machine_code or mp_compare */
		} else if (f->status == MP_CHANGED) {
			f->why |= MP_WHY_SOURCE;
			f->cause = changed_inlinee(new, f);
			if (f->cause)
				f->why |= MP_WHY_INLINES;
			else
				f->nbodiless = bodiless_inlinees(new, f, &f->bodiless);
		} else if (f->status == MP_NEW) {
			f->why |= MP_WHY_NEW;
		} else {
			continue;
		}
		f->in_p = true;
		work[nwork++] = i;
	}
	while (nwork) {
		struct mp_func *f = &new->funcs[work[--nwork]];
		if (!f->twin)
			continue;
		uint32_t oi = (uint32_t)(f->twin - old->funcs);
		for (uint32_t x = e.first[oi]; x != UINT32_MAX; x = e.next[x]) {
			struct mp_func *g = old->funcs[e.to[x]].twin;
			if (!g || g->in_p)
				continue;
			g->in_p = true;
			g->why |= MP_WHY_INLINES;
			g->cause = f;
			work[nwork++] = (uint32_t)(g - new->funcs);
		}
	}
	for (uint32_t i = 0; i < new->nfuncs; i++)
		fragment_follows_origin(new, &new->funcs[i]);
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *f = &new->funcs[i];
		if (f->twin &&
		    (f->flags & HP_MD_FUNC_CLONE || *f->origin || mp_is_clone_name(f->name)))
			f->why |= f->in_p ? MP_WHY_CLONE : 0;
		if (!f->in_p && f->status == MP_NEW)
			continue;
		st->same += f->status == MP_SAME && f->address;
		st->changed += f->status == MP_CHANGED;
		st->new_funcs += f->status == MP_NEW;
		st->in_p += f->in_p;
		st->replaced += f->in_p && f->twin;
		st->lines_only += f->lines_only && !f->in_p;
	}
	for (uint32_t i = 0; i < old->nfuncs; i++)
		st->gone += old->funcs[i].status == MP_GONE && old->funcs[i].address;
	for (uint32_t i = 0; i < new->nvars; i++) {
		st->vars_changed += new->vars[i].status == MP_CHANGED;
		st->vars_new += new->vars[i].status == MP_NEW;
	}
out:
	free_edges(&e);
	free(work);
	return err;
}
