/* libhotpatch: apply and revert hotpatch packages inside the running
 * process. See docs/runtime.md for how a patch is put in place.
 *
 * Linking the shared library (or LD_PRELOADing it) also starts a control
 * listener so the `hotpatch` CLI can drive these same operations from
 * outside; set HOTPATCH_NO_LISTEN=1 to drive them only through this API.
 *
 * Conventions: functions returning int give 0 on success or a negative
 * error code: -errno, or -HP_E* (see hp_strerror()). Functions taking
 * err/errlen write a one-line reason there on failure (err may be NULL).
 * Only one apply or revert runs at a time, process-wide (C API and
 * control socket together); a concurrent one fails with -EBUSY.
 */
#ifndef HOTPATCH_HOTPATCH_H
#define HOTPATCH_HOTPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <hotpatch/errors.h> /* hp_error (HP_E*), hp_strerror() */

#ifdef __cplusplus
extern "C" {
#endif

/* Library version, "MAJOR.MINOR.PATCH". */
const char *hp_version(void);

/* Options for hp_apply_fd(); NULL means defaults. sz must be set to
 * sizeof(struct hp_apply_opts) so fields can be added later. */
struct hp_apply_opts {
	size_t sz;
	const char *name; /* shown by list instead of the manifest's name */
	/* non-zero: every check of an apply, nothing loaded or written (the
	 * first phase of an all-or-nothing apply to a group of processes) */
	int verify_only;
};

/* Applies the package open on pkg_fd (any readable regular file; the fd is
 * not closed and its offset not used). Everything is verified before the
 * first byte of code is written: package format and checksum, the target
 * image by build-id among all loaded images, every target function's bytes
 * and patchability, every offset against the image's segments. On success
 * stores the new patch id in *patch_id (when not NULL), and err is "" —
 * unless a post-apply hook failed: then err says so (the patch is applied).
 * On failure nothing in the process has changed (a pre-apply hook that
 * refused gives -HP_EHOOK and its reason). */
int hp_apply_fd(int pkg_fd, const struct hp_apply_opts *opts, unsigned *patch_id, char *err,
		size_t errlen);

/* hp_apply_fd() on a file opened by path. */
int hp_apply_file(const char *path, const struct hp_apply_opts *opts, unsigned *patch_id, char *err,
		  size_t errlen);

/* Reverts one applied patch: patch is its id in decimal or its name; NULL
 * or "" reverts the most recent. Any patch may be reverted, not only the
 * newest: functions it was the newest layer of go back to the layer
 * below (an older patch, or the original code). The package stays mapped,
 * as threads may still be running in it. A pre-revert hook that refuses
 * gives -HP_EHOOK (the patch stays applied); on success err is "" unless
 * a post-revert hook failed (the patch is reverted). */
int hp_revert(const char *patch, char *err, size_t errlen);

/* Snapshot of the applied patches, oldest first. */
struct hp_list;

struct hp_patch_info {
	unsigned id;
	const char *name;
	const char *target; /* target image name from the manifest */
	const char *description;
	struct timespec applied; /* CLOCK_REALTIME */
	size_t func_count;
};

/* Takes a snapshot; free it with hp_list_free(). */
int hp_list_get(struct hp_list **out);
size_t hp_list_count(const struct hp_list *l);
/* Fills *out for patch i; its strings live as long as the snapshot. */
int hp_list_patch(const struct hp_list *l, size_t i, struct hp_patch_info *out);
/* Who signed patch i, as verified when it was applied: "unsigned", or the
 * key's short name ("ed25519:" and 16 hex digits); NULL when out of range.
 * With HOTPATCH_TRUSTED_KEYS every listed key is a trusted one. */
const char *hp_list_signer(const struct hp_list *l, size_t i);
/* Name of function j of patch i, or NULL when out of range. */
const char *hp_list_func(const struct hp_list *l, size_t i, size_t j);
void hp_list_free(struct hp_list *l);

/* Starts the control listener if it is not running (the library's
 * constructor calls this unless HOTPATCH_NO_LISTEN=1). The socket is
 * $HOTPATCH_RUNDIR/hotpatch-UID/PID.sock, HOTPATCH_RUNDIR defaulting to
 * /tmp; the directory is 0700 and the socket 0600. */
int hp_listener_start(void);

/* Stops the listener and removes its socket. */
void hp_listener_stop(void);

/* ---- shadow variables: for the fix's own source ----
 *
 * Data a fix attaches to an existing object, so that a fix which would
 * add a struct field keeps the struct and keeps the new field beside it:
 *
 *     unsigned *len = hp_shadow_get_or_alloc(e, MY_FIX_LEN, sizeof(*len));
 *
 * obj is any address (usually the object's), id a number the fix picks
 * (one per kind of data). hp_shadow_get takes no lock and is safe from
 * any thread; alloc and free take one process-wide lock. Freeing an
 * object's shadow while another thread uses it is the caller's race, as
 * with free(). Shadows outlive the patch that made them unless it frees
 * them, typically with hp_shadow_free_all() from a post-revert hook (a
 * new object at a freed one's address would find its stale shadow).
 *
 * Declared weak so that the fix's NEW build links without libhotpatch:
 * in a process without the runtime they are NULL. */
#ifdef HP_BUILDING_LIBHOTPATCH
#define HOTPATCH_WEAK_ /* libhotpatch's own definitions are strong */
#else
#define HOTPATCH_WEAK_ __attribute__((weak))
#endif
/* The data of (obj, id), or NULL. */
HOTPATCH_WEAK_ void *hp_shadow_get(const void *obj, unsigned long id);
/* New zeroed data of size bytes for (obj, id); NULL with errno EEXIST if
 * there is one already, ENOMEM, or EINVAL for size 0. */
HOTPATCH_WEAK_ void *hp_shadow_alloc(const void *obj, unsigned long id, size_t size);
/* The existing data of (obj, id), or new zeroed data; NULL on ENOMEM. */
HOTPATCH_WEAK_ void *hp_shadow_get_or_alloc(const void *obj, unsigned long id, size_t size);
/* Frees the data of (obj, id), if any. */
HOTPATCH_WEAK_ void hp_shadow_free(const void *obj, unsigned long id);
/* Frees every shadow with this id; returns how many. */
HOTPATCH_WEAK_ size_t hp_shadow_free_all(unsigned long id);

/* ---- patch hooks: for the fix's own source ----
 *
 * A fix may define functions the runtime calls, in the target process, on
 * the thread that applies or reverts the patch:
 *
 *     static int fill_table(char *msg, size_t msglen) { ...; return 0; }
 *     HOTPATCH_POST_APPLY(fill_table);
 *
 * A hook returns 0, or non-zero with a one-line reason in msg. Pre hooks
 * run after every check and before the first code write: a non-zero
 * return refuses the apply (or the revert) and nothing of the patch is put
 * in place. Post hooks run after the last code write: a failure is
 * reported and the patch stays applied (or reverted). Hooks run with the
 * patch's proxy slots filled, so they reach the running program's globals;
 * they must not apply or revert patches themselves. In the NEW build the
 * macros only keep the function; mkpatch finds them and lists them with
 * --explain. See docs/writing-patches.md. */
typedef int (*hotpatch_hook_fn)(char *msg, size_t msglen);
#define HOTPATCH_HOOK_(kind, fn)                                                                   \
	__attribute__((used)) static const hotpatch_hook_fn __hotpatch_hook_##kind##__##fn = fn
#define HOTPATCH_PRE_APPLY(fn) HOTPATCH_HOOK_(pre_apply, fn)
#define HOTPATCH_POST_APPLY(fn) HOTPATCH_HOOK_(post_apply, fn)
#define HOTPATCH_PRE_REVERT(fn) HOTPATCH_HOOK_(pre_revert, fn)
#define HOTPATCH_POST_REVERT(fn) HOTPATCH_HOOK_(post_revert, fn)

#ifdef __cplusplus
}
#endif
#endif
