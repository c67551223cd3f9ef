/* Safety checks: the changes mkpatch refuses, each with the function,
 * variable, type or field that is the culprit. */
#ifndef MP_CHECK_H
#define MP_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

struct mp_findings {
	char **refusals; /* one line each */
	size_t nrefusals;
	char **warnings;
	size_t nwarnings;
};

void mp_findings_release(struct mp_findings *fi);
int mp_refuse(struct mp_findings *fi, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mp_warn(struct mp_findings *fi, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks from metadata alone: patchability of P's targets, size, initial
 * value and TLS-ness of variables present in both. */
int mp_check_metadata(const struct mp_program *old, const struct mp_program *new,
		      struct mp_findings *fi);

/* Checks that need types from DWARF: layout of the structs P's globals and
 * P's functions use, and signatures of P's functions that unchanged code
 * still calls. Without debug info in both, records a warning instead. */
int mp_check_types(const struct mp_program *old, const struct mp_program *new,
		   struct mp_findings *fi);

/* The second opinion: functions the metadata does not describe (assembly,
 * objects built without the plugin) are compared by machine code with
 * addresses normalised; a difference is refused (it cannot be attributed). */
int mp_check_machine_code(const struct mp_program *old, const struct mp_program *new,
			  struct mp_findings *fi);

#endif
