/* Building the package: recompile the TUs of P in patch mode, link them
 * into a shared object, read its metadata back, write the manifest. */
#ifndef MP_BUILD_H
#define MP_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "model.h"

struct mp_build_opts {
	const char *output;	   /* package path */
	const char *name;	   /* patch name */
	const char *description;   /* free text for the manifest */
	const char *linker_script; /* NULL: look for hotpatch-package.ld */
	bool keep_temps;
	FILE *log; /* -v: commands run; NULL for quiet */
	/* where the compilers' and the linker's own messages go (created or
	 * emptied; their warnings are not mkpatch's report); NULL: stderr */
	const char *compiler_log;
	/* --sign: the secret key the package is signed with; NULL unsigned */
	const uint8_t *secret_key;
};

/* Returns 0, -HP_ERECOMPILE (message in d), -HP_EREFUSED (the reasons,
 * one per culprit, added to fi: the plugin refused something while
 * recompiling, e.g. a user's initialiser naming an old symbol) or a
 * negative errno. */
int mp_build_package(const struct mp_program *old, const struct mp_program *new,
		     const struct mp_build_opts *o, struct mp_findings *fi, struct mp_diag *d);

#endif
