/* mkpatch's command line: what it asks for, parsed without printing or
 * exiting, so that a test can drive it. */
#ifndef MP_OPTIONS_H
#define MP_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"

struct mp_options {
	const char *old_path, *new_path; /* OLD and NEW */
	const char *output;		 /* -o PKG; NULL with --dry-run */
	const char *name;		 /* --name; NULL: PKG's basename */
	const char *linker_script;	 /* --linker-script; NULL: the default */
	const char *sign_key;		 /* --sign KEY; NULL: unsigned */
	bool explain, json, dry_run, verbose, keep_temps, line_changes;
	bool help; /* -h: nothing else was parsed after it */
};

/* Fills o (zeroed first) from argv, which getopt may permute. Stops at
 * -h/--help with o->help set and returns 0. Returns -EINVAL for a usage
 * error: an unknown option or a missing option argument (getopt has
 * printed its own message, d->msg stays ""), a count of operands other
 * than two, or neither -o nor --dry-run (message in d). */
int mp_options_parse(int argc, char **argv, struct mp_options *o, struct mp_diag *d);

/* Writes --help's text: the options and the exit statuses. */
void mp_options_usage(FILE *out);

#endif
