/* Building the package, one step per call: recompile the TUs of P in patch
 * mode, link them into a shared object, make the manifest from it, write
 * the package. Each step needs the one before it. */
#ifndef MP_BUILD_H
#define MP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "model.h"

struct hp_pkg_builder;

struct mp_build_opts {
	const char *output;	   /* package path */
	const char *name;	   /* patch name */
	const char *linker_script; /* NULL: look for hotpatch-package.ld */
	bool keep_temps;
	FILE *log; /* -v: commands run; NULL for quiet */
	/* where the compilers' and the linker's own messages go (created or
	 * emptied; their warnings are not mkpatch's report); NULL: stderr */
	const char *compiler_log;
	/* --sign: the secret key the package is signed with; NULL unsigned */
	const uint8_t *secret_key;
};

/* One package on its way: the temporary directory with the specs, objects
 * and linked patch, and the manifest made from that patch. */
struct mp_build {
	const struct mp_build_opts *opts;
	char dir[4096]; /* "" until created */
	char **files;	/* in dir, removed on release unless keep_temps */
	size_t nfiles;
	int log_fd; /* opts->compiler_log, open from recompile to link */
	char **objs;
	size_t nobjs;
	const char *so;		 /* the linked patch (one of files) */
	struct mp_program patch; /* so, read back for the manifest */
	struct hp_pkg_builder *manifest;
};

/* Sets b up for mp_build_release() (nothing is created yet). */
void mp_build_init(struct mp_build *b, const struct mp_build_opts *o);

/* Creates the compiler log and the temporary directory, marks the TUs to
 * rebuild (those defining functions of P, new functions, new variables or
 * changed constants) and recompiles each in patch mode. Returns 0,
 * -HP_ERECOMPILE (message in d, with the compiler's first error line),
 * -HP_EREFUSED (the plugin refused something while recompiling, e.g. a
 * user's initialiser naming an old symbol: one reason per culprit added
 * to fi, every TU tried) or a negative errno (message in d). */
int mp_build_recompile(struct mp_build *b, const struct mp_program *old,
		       const struct mp_program *new, struct mp_findings *fi, struct mp_diag *d);

/* Links the objects into the patch, a shared object laid out by the
 * package linker script. Returns 0, -HP_ERECOMPILE (message in d) or
 * -ENOMEM. */
int mp_build_link(struct mp_build *b, const struct mp_program *new, struct mp_diag *d);

/* Reads the linked patch back (its own .hotpatch metadata gives each
 * replacement and each proxy slot), resolves every target to its address
 * in OLD and fills the manifest, signed with opts->secret_key if any.
 * Returns 0, -HP_ERECOMPILE (the patch lacks what P needs),
 * -HP_EMALFORMED (OLD lacks a build-id or a target's code) or a negative
 * errno; the message is in d. */
int mp_build_manifest(struct mp_build *b, const struct mp_program *old,
		      const struct mp_program *new, struct mp_diag *d);

/* Writes opts->output: the linked patch with the manifest embedded.
 * Returns 0 or a negative errno (the writer's message in d). */
int mp_build_write(struct mp_build *b, struct mp_diag *d);

/* Removes the temporary files (with keep_temps, says on opts->log where
 * they are) and frees b. Safe after a failed step and more than once. */
void mp_build_release(struct mp_build *b);

#endif
