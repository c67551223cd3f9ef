/* Patch hooks as mkpatch sees them: hotpatch.h's HOTPATCH_PRE_APPLY(fn)
 * and the like define a variable __hotpatch_hook_<kind>__<fn> that points
 * at fn. */
#ifndef MP_HOOKS_H
#define MP_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The HP_PKG_HOOK_* kind a variable of that name declares, with the hook
 * function's name in fn; 0 when the name is not a hook's. */
uint32_t mp_hook_of_var(const char *name, char *fn, size_t fnlen);

/* The kind of hook f is in NEW (a hook variable of f's TU names it), or 0. */
uint32_t mp_hook_kind_of(const struct mp_program *new, const struct mp_func *f);

#endif
