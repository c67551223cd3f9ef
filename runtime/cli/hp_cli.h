/* What the parts of the hotpatch CLI share: the command line and the
 * exchange with one process live in hotpatch.c, groups of processes in
 * hp_cli_group.c, keys and signatures in hp_cli_keys.c. */
#ifndef HP_CLI_H
#define HP_CLI_H

#include <stddef.h>
#include <sys/types.h>

#include "hp_wire.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* revert PID "": an empty name is refused, not taken as "the most recent"
 * (a script's unset variable would revert some other patch). */
#define CLI_EMPTY_PATCH "empty PATCH name (omit it to revert the most recent patch)"

/* Most requests a group has in flight at once unless --parallel says. */
#define CLI_PARALLEL_DEFAULT 16
#define CLI_PARALLEL_MAX 256

/* "hotpatch: <message>" and a hint to --help on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hotpatch: <message>" on stderr; returns EXIT_FAIL. While fail_into()
 * has given a buffer, the message goes there instead. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends fail()'s messages to buf (len bytes, NUL-terminated); NULL puts
 * them back on stderr. */
void fail_into(char *buf, size_t len);

/* A whole decimal PID in 1..2^30-1; 0 or -1. */
int parse_pid(const char *s, pid_t *pid);

/* Opens PKG for sending, refusing anything but a regular file. */
int open_package(const char *pkg, int *fd);

/* The path of pid's control socket (and the uid owning /proc/pid);
 * fails when there is no such process. */
int socket_path(pid_t pid, char *buf, size_t len, uid_t *owner);

/* One request to one process, in two halves, so that a group can have
 * many in flight. */
struct exchange {
	pid_t pid;
	int fd;	      /* the connection while the reply is awaited, else -1 */
	int send_err; /* errno of a failed send (a refusing runtime still answers) */
	int ret;      /* 0, or EXIT_FAIL with the reason in why */
	int status;   /* the runtime's status when it answered, else 0 */
	char *reply;  /* the reply's text on success (the caller frees it) */
	int op;	      /* the request's HP_OP_* */
	int kept;     /* the runtime kept the connection open (HP_WIRE_SESSION):
		       * x->fd stays open for the next request */
	char why[640];
};

/* Connects to x->pid (or, x->fd >= 0, reuses a connection the runtime
 * kept open) and sends req (with pkg_fd, unless -1). Returns 0
 * when a reply is to be read from x->fd (exchange_end), else sets x->ret
 * and x->why. */
int exchange_begin(struct exchange *x, struct hp_wire_req *req, int pkg_fd);

/* Seconds a single-process command waits for its answer (--timeout). */
extern unsigned cli_timeout;
/* Seconds on the monotonic clock, for timing a command's steps. */
double cli_now_s(void);

/* Reads the reply and closes the connection: x->reply, or x->ret and
 * x->why. */
void exchange_end(struct exchange *x);

/* One request/reply with pid; a failure is printed as one line. With
 * reply non-NULL a successful reply's text is handed over instead of
 * printed. */
int transact(pid_t pid, struct hp_wire_req *req, int pkg_fd, char **reply);

/* apply PID PID... PKG, apply --exe EXE PKG, revert --exe EXE [PATCH],
 * list --exe EXE, status --exe EXE (hp_cli_group.c); args[0] is the
 * first argument after the command. */
int cmd_group(const char *cmd, int nargs, char **args, int flags, unsigned parallel);

/* hotpatch keygen PREFIX */
int cmd_keygen(int nargs, char **args);
/* hotpatch verify PKG [--key PUB]... [--keys DIR] */
int cmd_verify(int nargs, char **args, int json);

#endif
