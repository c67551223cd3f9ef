/* Comparison and inclusion: which functions change (S) and which must be
 * replaced together (P). */
#ifndef MP_DIFF_H
#define MP_DIFF_H

#include "model.h"

struct mp_diff_stats {
	uint32_t same, changed, new_funcs, gone, in_p, replaced;
	uint32_t lines_only; /* differ in line numbers only, not in P */
	uint32_t vars_changed, vars_new;
};

/* Sets each function's and variable's status (after mp_correlate). S is
 * every NEW function that is MP_CHANGED or MP_NEW. A function whose only
 * difference is the line numbers it passes to calls is MP_SAME and marked
 * lines_only: its old code reporting the old line is harmless. */
void mp_compare(struct mp_program *old, struct mp_program *new);

/* After mp_compare, when asked for: functions that differ in line numbers
 * only join S (MP_CHANGED, MP_WHY_LINES). */
void mp_compare_include_lines(struct mp_program *new);

/* Computes P: S closed over "was inlined into" in OLD, transitively, and
 * records why each member is there. Returns 0 or -ENOMEM. */
int mp_include(struct mp_program *old, struct mp_program *new, struct mp_diff_stats *st);

#endif
