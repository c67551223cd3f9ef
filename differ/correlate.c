/* Correlation: give every NEW translation unit, function and variable its
 * twin in OLD.
 *
 * Functions and variables are matched by (symbol name, TU source path) for
 * locals and by name for externals. Compiler-made clones are matched by
 * origin, not by number: clang-19 names a promoted local "parse.llvm.<module
 * hash>" and GCC numbers "parse.constprop.0"/".isra.1" per build, so an
 * unrelated edit elsewhere renumbers them. Static locals are matched by
 * owning function and source name (GCC's "count.3" becomes "count.5"). */
#include "correlate.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_metadata_format.h"

/* Suffixes followed by a build-dependent number. */
static const char *const numbered_suffixes[] = {
	"constprop", "isra", "part", "cold", "specialized", "llvm", "lto_priv", "localalias",
};

static bool is_numbered_suffix(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(numbered_suffixes) / sizeof(*numbered_suffixes); i++)
		if (strlen(numbered_suffixes[i]) == len && !memcmp(s, numbered_suffixes[i], len))
			return true;
	return false;
}

static bool all_digits(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool mp_is_clone_name(const char *name)
{
	const char *dot = strchr(name + (*name == '.'), '.');
	while (dot) {
		const char *comp = dot + 1, *end = strchr(comp, '.');
		size_t len = end ? (size_t)(end - comp) : strlen(comp);
		if (is_numbered_suffix(comp, len))
			return true;
		dot = end;
	}
	return false;
}

char *mp_clone_key(const char *name)
{
	char *out = malloc(strlen(name) + 1);
	if (!out)
		return NULL;
	const char *p = name;
	size_t n = strcspn(p + (*p == '.'), ".") + (*p == '.');
	memcpy(out, p, n);
	size_t o = n;
	p += n;
	bool after_suffix = false, drop_number = false;
	while (*p == '.') {
		const char *comp = p + 1;
		size_t len = strcspn(comp, ".");
		if (after_suffix && all_digits(comp, len)) {
			/* the build-dependent number: dropped */
		} else if (len == 4 && !memcmp(comp, "llvm", 4)) {
			drop_number = true; /* ".llvm.N" says nothing about origin */
		} else if (drop_number && all_digits(comp, len)) {
			drop_number = false;
		} else {
			out[o++] = '.';
			memcpy(out + o, comp, len);
			o += len;
		}
		after_suffix = is_numbered_suffix(comp, len);
		p = comp + len;
	}
	out[o] = 0;
	return out;
}

static const char *scope_of(const struct mp_func *f)
{
	return f->flags & HP_MD_FUNC_EXTERNAL ? "" : f->tu->source;
}

/* First OLD function under (name, scope) that is still free. */
static struct mp_func *take(struct mp_map *m, const char *name, const char *scope)
{
	for (struct mp_func *o = mp_map_get(m, name, scope); o; o = o->next_same_key)
		if (!o->twin && o->address)
			return o;
	return NULL;
}

static void pair(struct mp_func *n, struct mp_func *o)
{
	n->twin = o;
	o->twin = n;
}

static int correlate_clones(struct mp_program *old, struct mp_program *new)
{
	struct mp_map by_key;
	mp_map_init(&by_key);
	int err = 0;
	/* Chain free OLD clones by key; walk backwards so chains keep order. */
	for (uint32_t i = old->nfuncs; i-- > 0;) {
		struct mp_func *o = &old->funcs[i];
		if (o->twin || !o->address || !mp_is_clone_name(o->name))
			continue;
		if (!o->norm && !(o->norm = mp_clone_key(o->name)))
			goto fail_nomem;
		void *prev;
		if ((err = mp_map_put(&by_key, o->norm, o->tu->source, o, &prev)))
			goto out;
		o->next_same_key = prev; /* the name map is no longer needed */
	}
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *n = &new->funcs[i];
		if (n->twin || !n->address || !mp_is_clone_name(n->name))
			continue;
		if (!n->norm && !(n->norm = mp_clone_key(n->name)))
			goto fail_nomem;
		for (struct mp_func *o = mp_map_get(&by_key, n->norm, n->tu->source); o;
		     o = o->next_same_key) {
			if (!o->twin) {
				pair(n, o);
				break;
			}
		}
	}
	goto out;
fail_nomem:
	err = -ENOMEM;
out:
	mp_map_release(&by_key);
	return err;
}

static void correlate_static_local(struct mp_program *old, struct mp_var *n)
{
	for (uint32_t j = 0; j < old->nvars; j++) {
		struct mp_var *o = &old->vars[j];
		if (!o->twin && o->flags & HP_MD_VAR_STATIC_LOCAL && *o->source_name &&
		    !strcmp(o->source_name, n->source_name) && !strcmp(o->owner, n->owner) &&
		    o->tu->twin == n->tu) {
			n->twin = o;
			o->twin = n;
			return;
		}
	}
}

static void correlate_vars(struct mp_program *old, struct mp_program *new)
{
	for (uint32_t i = 0; i < new->nvars; i++) {
		struct mp_var *n = &new->vars[i];
		if (n->flags & (HP_MD_VAR_PROXY | HP_MD_VAR_DECLARATION) || !n->tu->twin)
			continue;
		const char *scope = n->flags & HP_MD_VAR_EXTERNAL ? "" : n->tu->twin->source;
		struct mp_var *o = mp_map_get(&old->var_by_name, n->name, scope);
		if (o && !o->twin) {
			n->twin = o;
			o->twin = n;
		} else if (n->flags & HP_MD_VAR_STATIC_LOCAL) {
			correlate_static_local(old, n);
		}
	}
}

int mp_correlate(struct mp_program *old, struct mp_program *new, struct mp_diag *d)
{
	uint32_t common = 0;
	for (uint32_t i = 0; i < new->ntus; i++) {
		struct mp_tu *o = mp_map_get(&old->tu_by_source, new->tus[i].source, "");
		if (o && !o->twin) {
			new->tus[i].twin = o;
			o->twin = &new->tus[i];
			common++;
		}
	}
	if (!common)
		return mp_fail(
			d, HP_EDIFFERENT,
			"'%s' and '%s' share no translation unit: builds of different programs?",
			old->elf.path, new->elf.path);
	/* Hashes made under different rules differ for every function: a
	 * patch of the whole program, not of the fix. */
	for (uint32_t i = 0; i < new->ntus; i++) {
		const struct mp_tu *n = &new->tus[i], *o = n->twin;
		if (o && o->hash_rules != n->hash_rules)
			return mp_fail(
				d, HP_EDIFFERENT,
				"'%s' was compiled by different hotpatch plugin versions in OLD "
				"(%s, hash rules %u) and NEW (%s, hash rules %u): build NEW "
				"with the plugin OLD was built with",
				n->source, o->plugin_version, o->hash_rules, n->plugin_version,
				n->hash_rules);
	}
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		struct mp_func *n = &new->funcs[i];
		if (!n->address)
			continue;
		struct mp_func *o = take(&old->func_by_name, n->name, scope_of(n));
		/* static <-> extern: same function, the linkage changed */
		if (!o)
			o = take(&old->func_by_name, n->name,
				 n->flags & HP_MD_FUNC_EXTERNAL ? n->tu->source : "");
		if (o && (o->flags & HP_MD_FUNC_EXTERNAL || o->tu->twin == n->tu))
			pair(n, o);
	}
	int err = correlate_clones(old, new);
	if (err)
		return err;
	correlate_vars(old, new);
	return 0;
}
