/* What the parts of the hotpatch CLI share. */
#ifndef HP_CLI_H
#define HP_CLI_H

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* "hotpatch: <message>" and a hint to --help on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hotpatch: <message>" on stderr; returns EXIT_FAIL. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* hotpatch keygen PREFIX */
int cmd_keygen(int nargs, char **args);
/* hotpatch verify PKG [--key PUB]... [--keys DIR] */
int cmd_verify(int nargs, char **args, int json);

#endif
