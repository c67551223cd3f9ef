/* Comparison and inclusion: which functions change (S) and which must be
 * replaced together (P). Comparison is mp_compare, then (when asked for)
 * mp_compare_include_lines, then mp_compare_machine_code. */
#ifndef MP_DIFF_H
#define MP_DIFF_H

#include "model.h"

struct mp_findings; /* check.h */

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

/* The second opinion (after mp_compare, before mp_include): functions in
 * both builds are compared by machine code with addresses normalised
 * (machcode.h; compare_machine.c says which). One the metadata describes
 * whose hash is the same but whose code differs becomes MP_CHANGED with
 * MP_WHY_MACHINE (and a warning in fi); one without metadata (assembly,
 * objects built without the plugin) whose code differs is refused in fi,
 * naming it. Returns 0 or -ENOMEM (a refusal is a finding, not an error). */
int mp_compare_machine_code(struct mp_program *old, struct mp_program *new, struct mp_findings *fi);

/* Computes P: S closed over "was inlined into" in OLD, transitively, and
 * records why each member is there. Returns 0 or -ENOMEM. */
int mp_include(struct mp_program *old, struct mp_program *new, struct mp_diff_stats *st);

#endif
