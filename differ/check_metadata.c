/* Refusals decided from the plugin's metadata alone. */
#include "check.h"

#include <inttypes.h>
#include <stdio.h>

#include "hp_metadata_format.h"

static int check_target(const struct mp_func *f, struct mp_findings *fi)
{
	const struct mp_func *o = f->twin;
	if (!(o->flags & HP_MD_FUNC_PATCHABLE))
		return mp_refuse(fi, "function '%s' (%s) is not patchable in OLD: %s", o->name,
				 o->tu->source,
				 *o->not_patchable_reason ? o->not_patchable_reason
							  : "no padding or atomic entry");
	if (o->size < (uint64_t)o->entry_offset + 2)
		return mp_refuse(fi, "function '%s' (%s) is too small to patch (%" PRIu64 " bytes)",
				 o->name, o->tu->source, o->size);
	return 0;
}

static const char *var_kind(const struct mp_var *v)
{
	if (v->flags & HP_MD_VAR_TLS)
		return "thread-local variable";
	if (v->flags & HP_MD_VAR_STATIC_LOCAL)
		return "static local";
	return "global";
}

static int check_var(const struct mp_var *n, struct mp_findings *fi)
{
	const struct mp_var *o = n->twin;
	const char *name = *n->source_name ? n->source_name : n->name;
	char where[512];
	if (n->flags & HP_MD_VAR_STATIC_LOCAL && *n->owner)
		snprintf(where, sizeof(where), "%s() in %s", n->owner, n->tu->source);
	else
		snprintf(where, sizeof(where), "%s", n->tu->source);
	if ((n->flags ^ o->flags) & HP_MD_VAR_TLS)
		return mp_refuse(fi,
				 "variable '%s' (%s) changed between thread-local and global: "
				 "TLS changes cannot be patched",
				 name, where);
	if (n->size != o->size)
		return mp_refuse(fi,
				 "%s '%s' (%s) changed size from %" PRIu64 " to %" PRIu64
				 " bytes: running code and state use the old layout (keep it and "
				 "put new data in a shadow variable: docs/writing-patches.md)",
				 var_kind(n), name, where, o->size, n->size);
	if (n->init_hash != o->init_hash)
		return mp_refuse(fi,
				 "%s '%s' (%s) has a changed initial value: the running "
				 "process keeps the old one (set the new value from a "
				 "post-apply hook: docs/writing-patches.md)",
				 var_kind(n), name, where);
	if ((n->flags ^ o->flags) & HP_MD_VAR_CONST)
		return mp_refuse(fi, "%s '%s' (%s) changed between const and writable", var_kind(n),
				 name, where);
	return 0;
}

/* A proxy slot holds one address, but a thread-local variable has one per
 * thread: patch code cannot reach the running image's TLS through it. */
static int check_tls_refs(const struct mp_program *new, const struct mp_func *f,
			  struct mp_findings *fi)
{
	for (uint32_t k = 0; k < f->nvars; k++) {
		const struct mp_var *v = mp_find_var(new, f->vars[k], f->tu);
		if (v && v->twin && v->flags & HP_MD_VAR_TLS)
			return mp_refuse(fi,
					 "function '%s' (%s) uses the existing thread-local "
					 "variable '%s': patches cannot reach the running "
					 "threads' TLS",
					 f->name, f->tu->source, v->name);
	}
	return 0;
}

int mp_check_metadata(const struct mp_program *old, const struct mp_program *new,
		      struct mp_findings *fi)
{
	(void)old;
	int err = 0;
	for (uint32_t i = 0; !err && i < new->nfuncs; i++) {
		const struct mp_func *f = &new->funcs[i];
		if (f->in_p && f->twin)
			err = check_target(f, fi);
		if (!err && f->in_p)
			err = check_tls_refs(new, f, fi);
	}
	for (uint32_t i = 0; !err && i < new->nvars; i++) {
		const struct mp_var *v = &new->vars[i];
		if (v->status == MP_CHANGED && !v->const_changed)
			err = check_var(v, fi); /* changed constants travel in the patch */
	}
	return err;
}
