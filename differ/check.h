/* Safety checks: the changes mkpatch refuses, each with the function,
 * variable, type or field that is the culprit. A check returns 0 or
 * -ENOMEM: what it refuses is a finding (fi), and the pipeline's check
 * stage (pipeline.h) turns findings into -HP_EREFUSED. */
#ifndef MP_CHECK_H
#define MP_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

struct mp_findings {
	char **refusals; /* one line each */
	char **details;	 /* per refusal: the complete form for --json, or NULL */
	size_t nrefusals;
	char **warnings;
	size_t nwarnings;
};

void mp_findings_release(struct mp_findings *fi);
int mp_refuse(struct mp_findings *fi, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A refusal whose line abbreviates (lists some users of a culprit): detail
 * is the complete form, kept for --json. */
int mp_refuse_detailed(struct mp_findings *fi, const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mp_warn(struct mp_findings *fi, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Refusals that share a culprit (a struct whose layout changed, used by
 * many functions), collected and reported as one line naming the culprit
 * and its users. */
struct mp_refusal_group {
	char *culprit;
	char **users; /* "name (tu)" */
	size_t nusers;
};
struct mp_refusal_groups {
	struct mp_refusal_group *v;
	size_t n;
};
int mp_group_refusal(struct mp_refusal_groups *g, const char *culprit, const char *user,
		     const char *tu);
/* One refusal per group: "CULPRIT; used by A, B, C and N more (TU): WHY". */
int mp_flush_refusal_groups(struct mp_refusal_groups *g, struct mp_findings *fi, const char *why);
void mp_refusal_groups_release(struct mp_refusal_groups *g);

/* After mp_include. Checks from metadata alone: patchability of P's
 * targets, size, initial value and TLS-ness of variables present in both. */
int mp_check_metadata(const struct mp_program *old, const struct mp_program *new,
		      struct mp_findings *fi);

/* Checks that need types from DWARF: layout of the structs P's globals and
 * P's functions use, and signatures of P's functions. A function of P whose
 * signature changed is refused while unchanged code still calls it or its
 * address is taken; otherwise it is marked beside_old (the package carries
 * it as a new function and leaves the old one as it is). Without debug info
 * in both, records a warning instead. */
int mp_check_types(const struct mp_program *old, struct mp_program *new, struct mp_findings *fi);

#endif
