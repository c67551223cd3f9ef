/* Recognising patch hooks by the variable the macros define. */
#include "hooks.h"

#include <stdio.h>
#include <string.h>

#include "hp_package.h"

#define HOOK_PREFIX "__hotpatch_hook_"

uint32_t mp_hook_of_var(const char *name, char *fn, size_t fnlen)
{
	static const struct {
		const char *kind;
		uint32_t code;
	} kinds[] = {
		{"pre_apply__", HP_PKG_HOOK_PRE_APPLY},
		{"post_apply__", HP_PKG_HOOK_POST_APPLY},
		{"pre_revert__", HP_PKG_HOOK_PRE_REVERT},
		{"post_revert__", HP_PKG_HOOK_POST_REVERT},
	};
	if (strncmp(name, HOOK_PREFIX, strlen(HOOK_PREFIX)) != 0)
		return 0;
	name += strlen(HOOK_PREFIX);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].kind);
		if (strncmp(name, kinds[i].kind, n) == 0 && name[n] &&
		    snprintf(fn, fnlen, "%s", name + n) < (int)fnlen)
			return kinds[i].code;
	}
	return 0;
}

uint32_t mp_hook_kind_of(const struct mp_program *new, const struct mp_func *f)
{
	char fn[256];
	for (uint32_t i = 0; i < new->nvars; i++) {
		const struct mp_var *v = &new->vars[i];
		uint32_t kind = v->tu == f->tu ? mp_hook_of_var(v->name, fn, sizeof(fn)) : 0;
		if (kind && !strcmp(fn, f->name))
			return kind;
	}
	return 0;
}
