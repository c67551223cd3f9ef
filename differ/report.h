/* What mkpatch tells the user: a summary, one line per function of P
 * (--explain), or the same as JSON (--json). */
#ifndef MP_REPORT_H
#define MP_REPORT_H

#include <stdio.h>

#include "check.h"
#include "diff.h"

/* Outcome names used in JSON and in the summary. */
enum mp_outcome {
	MP_OUT_OK, /* package written / analysis fine */
	MP_OUT_REFUSED,
	MP_OUT_NO_CHANGE,
};

/* Writes into buf why f is in P, e.g. "inlines parse_key()". */
void mp_func_reason(const struct mp_func *f, char *buf, size_t size);
/* In P only because it inlines a function of P or uses a changed constant:
 * its own code did not change. --explain marks it "(dependency only)". */
bool mp_func_dependency_only(const struct mp_func *f);

void mp_report_explain(FILE *out, const struct mp_program *new);
void mp_report_summary(FILE *out, const struct mp_diff_stats *st, const struct mp_findings *fi);
void mp_report_json(FILE *out, const struct mp_program *old, const struct mp_program *new,
		    const struct mp_diff_stats *st, const struct mp_findings *fi,
		    enum mp_outcome outcome, const char *package);

#endif
