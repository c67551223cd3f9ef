/* The compile command the plugin records for mkpatch to re-run.
 *
 * A plugin runs inside the compiler proper (clang's cc1 or GCC's cc1). With
 * clang's default in-process cc1, /proc/self/cmdline is the driver command
 * the user ran; when cc1 is a child process (clang -fno-integrated-cc1,
 * CLANG_SPAWN_CC1=1, and always for GCC) the driver is the parent. The
 * driver command is what mkpatch wants: it accepts -fPIC and a new -o.
 */
#ifndef HP_CMDLINE_H
#define HP_CMDLINE_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_cmdline {
	char **argv; /* argc strings, NULL-terminated array */
	size_t argc;
	char *buf; /* storage the strings point into */
};

/* Read /proc/<pid>/cmdline (pid 0: this process). Returns 0 or -errno. */
int hp_cmdline_read(struct hp_cmdline *cl, pid_t pid);

/* The driver command of this compile: this process's argv, or the parent's
 * when this process is a spawned compiler proper ("-cc1" as argv[1], or a
 * GCC cc1) and the parent's argv names source. Falls back to this
 * process's argv. Returns 0 or -errno. */
int hp_cmdline_driver(struct hp_cmdline *cl, const char *source);

/* Is cl a compiler-proper command line (clang -cc1) rather than a driver's? */
int hp_cmdline_is_cc1(const struct hp_cmdline *cl);

/* The value of -o when the command writes an object (-c, -S or cc1), or
 * NULL when it links (the object is then a temporary file). */
const char *hp_cmdline_output(const struct hp_cmdline *cl);

/* Free what hp_cmdline_read allocated; safe on a zeroed struct. */
void hp_cmdline_release(struct hp_cmdline *cl);

#ifdef __cplusplus
}
#endif

#endif
