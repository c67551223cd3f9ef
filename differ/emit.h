/* Writing the manifest of a linked patch (hp_package.h's writer). */
#ifndef MP_EMIT_H
#define MP_EMIT_H

#include "build.h"

/* Reads the linked patch so_path back (its own .hotpatch metadata gives
 * each replacement and each proxy slot), resolves every target to its
 * address in OLD and writes o->output. */
int mp_emit_package(const struct mp_program *old, const struct mp_program *new, const char *so,
		    const struct mp_build_opts *o, struct mp_findings *fi, struct mp_diag *d);

#endif
