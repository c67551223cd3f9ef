/* Correlation of OLD and NEW (see correlate.c for the rules). */
#ifndef MP_CORRELATE_H
#define MP_CORRELATE_H

#include "model.h"

/* Sets the twin pointers of TUs, functions and variables of both programs.
 * Returns 0, -HP_EDIFFERENT (message in d) when the two share no
 * translation unit or a TU's hashes follow different rules in each (a
 * plugin upgrade between the builds), or -ENOMEM. */
int mp_correlate(struct mp_program *old, struct mp_program *new, struct mp_diag *d);

#endif
