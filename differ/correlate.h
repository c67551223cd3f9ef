/* Correlation of OLD and NEW (see correlate.c for the rules). */
#ifndef MP_CORRELATE_H
#define MP_CORRELATE_H

#include "model.h"

/* Sets the twin pointers of TUs, functions and variables of both programs.
 * HP_EDIFFERENT when the two share no translation unit. */
int mp_correlate(struct mp_program *old, struct mp_program *new, struct mp_diag *d);

#endif
