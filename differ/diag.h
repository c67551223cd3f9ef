/* Error reporting inside mkpatch: library code fills a struct mp_diag and
 * returns a negative errno; only main prints. */
#ifndef MP_DIAG_H
#define MP_DIAG_H

#include <stdarg.h>

struct mp_diag {
	char msg[1024];
};

/* Formats the message (lowercase, quoting its subject) and returns -err
 * (err is a positive errno, or one of MP_E*). Safe with d == NULL. */
int mp_fail(struct mp_diag *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Project error codes, beyond errno's range (which ends below
 * MP_ERRNO_END). The same range holds the runtime's HP_E* codes, so a code
 * is only meaningful with the library that returned it (issue 15 plans one
 * error space). */
enum {
	MP_ERRNO_END = 4096,
	MP_EMALFORMED = 4096, /* file is not a well-formed ELF / metadata */
	MP_ENOMETA,	      /* no .hotpatch metadata: plugin not used */
	MP_EDIFFERENT,	      /* OLD and NEW share no translation unit */
	MP_EREFUSED,	      /* unsafe change */
	MP_ERECOMPILE,	      /* a patch-mode compile or the link failed */
};

/* Text for err (negative or positive): an errno's strerror(), or the
 * meaning of an MP_E* code; never "Unknown error 4096". */
const char *mp_strerror(int err);

#endif
