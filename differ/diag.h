/* Error reporting inside mkpatch: library code fills a struct mp_diag and
 * returns a negative errno; only main prints. */
#ifndef MP_DIAG_H
#define MP_DIAG_H

#include <stdarg.h>

#include "hotpatch/errors.h" /* HP_E*, hp_strerror() */

struct mp_diag {
	char msg[1024];
};

/* Formats the message (lowercase, quoting its subject) and returns -err
 * (err is a positive errno, or one of HP_E*). Safe with d == NULL. */
int mp_fail(struct mp_diag *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
