/* The patch-mode spec file (docs/patch-mode.md), shared by the plugins.
 *
 *     keep NAME | old-func NAME | old-var NAME     one per line, # comments
 *     refusals PATH                                where refusals are written
 */
#ifndef HP_PATCH_SPEC_H
#define HP_PATCH_SPEC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hp_spec_kind {
	HP_SPEC_NONE = 0,     /* not named by the spec */
	HP_SPEC_KEEP = 1,     /* keep NAME */
	HP_SPEC_OLD_FUNC = 2, /* old-func NAME */
	HP_SPEC_OLD_VAR = 4,  /* old-var NAME */
};

struct hp_spec_entry {
	char *name;
	unsigned kinds; /* HP_SPEC_* ored: keep and old-func may both apply */
};

struct hp_patch_spec {
	struct hp_spec_entry *entries; /* sorted by name */
	size_t count;
	char *refusals_path; /* "refusals PATH", or NULL */
};

/* Parse the file at path. On error returns a negative errno (-EINVAL for a
 * syntax error) and writes a lowercase message naming file and line into
 * msg[0..msg_size). */
int hp_patch_spec_load(struct hp_patch_spec *spec, const char *path, char *msg, size_t msg_size);

/* HP_SPEC_* bits the spec gives name (HP_SPEC_NONE if unnamed). */
unsigned hp_patch_spec_lookup(const struct hp_patch_spec *spec, const char *name);

/* Append one refusal (an unsafe change, naming its culprit, no newline) to
 * the spec's refusals file, as one line written at once, so that mkpatch
 * can tell "refused" from "the compile failed". 0 when the spec names no
 * file; otherwise 0 or a negative errno. The caller still reports the
 * refusal as a compiler error: the compile must fail. */
int hp_patch_spec_refuse(const struct hp_patch_spec *spec, const char *line);

/* Free what hp_patch_spec_load allocated; safe on a zeroed struct. */
void hp_patch_spec_release(struct hp_patch_spec *spec);

#ifdef __cplusplus
}
#endif

#endif
