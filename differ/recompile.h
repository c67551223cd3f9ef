/* Recompiling one translation unit in patch mode (docs/patch-mode.md). */
#ifndef MP_RECOMPILE_H
#define MP_RECOMPILE_H

#include <stdio.h>

#include "check.h"
#include "model.h"

/* Writes the patch spec of NEW's tu to spec_path: keep = P's functions
 * defined there, old-func/old-var = every symbol that exists in OLD and
 * that the TU defines or references, and "refusals refusals_path": where
 * the plugin writes what it refuses. */
int mp_write_spec(const struct mp_program *old, const struct mp_program *new,
		  const struct mp_tu *tu, const char *spec_path, const char *refusals_path,
		  struct mp_diag *d);

/* Adds every line of the refusals file a patch-mode compile wrote (each
 * names its culprit) to fi. Returns how many (0 when the file is absent)
 * or a negative errno. */
int mp_read_refusals(const char *path, struct mp_findings *fi, struct mp_diag *d);

/* Re-runs tu's recorded compile command in its recorded directory with
 * -fPIC, -o obj_path and HOTPATCH_PATCH_SPEC=spec_path, and checks that the
 * object exists afterwards. When one command compiled several sources, the
 * other TUs of p (same cwd and argv) have their sources dropped from it.
 * log: where to echo the command, or NULL; out_fd: where the compiler's
 * own output goes, or -1 for mkpatch's stderr. Returns 0, -HP_ERECOMPILE
 * (message in d) or -ENOMEM. */
int mp_recompile(const struct mp_program *p, const struct mp_tu *tu, const char *spec_path,
		 const char *obj_path, FILE *log, int out_fd, struct mp_diag *d);

/* Runs argv (argv[0] looked up in PATH) in cwd with one extra environment
 * variable (env may be NULL), its stdout and stderr on out_fd (-1: as
 * mkpatch's). Returns the exit status (0..255), or a negative errno when it
 * could not be started (message in d). */
int mp_run_command(const char *const *argv, const char *cwd, const char *env, FILE *log, int out_fd,
		   struct mp_diag *d);

#endif
