/* What apply and revert are made of, one file each:
 *
 *   hp_registry.c  the patched functions ("sites"), the applied patches,
 *                  the lock over both and the one-operation-at-a-time flag
 *   hp_verify.c    the rules a package must pass before anything is loaded
 *   hp_load.c      the sealed copy of the package, dlopen, proxy slots,
 *                  trusted keys
 *   hp_write.c     the write sequence: the only stores to running code,
 *                  shared by apply and revert
 *   hp_patch.c     apply and revert in order, their hooks, the public API
 *
 * Layout at a site (sym = function symbol, entry = sym + entry_offset):
 *   sym-8 .. sym-1  90 90 90 E9 rel32  -> replacement, or its trampoline
 *   entry           EB disp8           -> sym-5 (F9 without, F5 with endbr64)
 * A site keeps a stack of layers, one per patch replacing the function;
 * the newest decides where the padding's jump goes.
 */
#ifndef HP_CORE_H
#define HP_CORE_H

#include <time.h>

#include "hp_internal.h"

/* ---- the registry (hp_registry.c) ---- */

struct hp_patch;

struct hp_layer {
	struct hp_patch *patch;
	uintptr_t repl;
};

struct hp_site {
	uintptr_t sym, entry;
	/* The HP_PAD_BYTES before sym, in the low bytes; cur_pad: what the
	 * padding holds now. */
	uint64_t orig_pad, cur_pad;
	uint16_t orig_entry, jmp_entry;
	uintptr_t tramp, slot; /* 0 until a trampoline is needed */
	struct hp_layer *layers;
	size_t nlayers, cap;
	struct hp_site *next;
};

struct hp_patch {
	unsigned id;
	char *name;
	struct hp_manifest *m;
	struct timespec applied;
	void *dl;		/* never closed once applied: threads may run in it */
	uintptr_t pbias;	/* the package's load bias (its hooks) */
	struct hp_site **sites; /* one per manifest function */
	struct hp_patch *next;	/* oldest first */
};

/* The registry lock: taken around every read and change of sites and
 * patches. Never held while a hook runs. */
void hp_registry_lock(void);
void hp_registry_unlock(void);

struct hp_site *hp_site_find(uintptr_t sym);
/* A site for f in the image at bias, from the code as it is now; not yet
 * in the registry (hp_site_link). NULL when out of memory. */
struct hp_site *hp_site_new(const struct hp_manifest_func *f, uintptr_t bias);
void hp_site_link(struct hp_site *s);
/* Every site linked so far, newest first (the rest follow ->next). */
struct hp_site *hp_sites(void);
/* Frees a site never linked, with its trampoline. */
void hp_site_free(struct hp_site *s);
/* Makes room for one more layer, so that hp_site_push() cannot fail. */
int hp_site_reserve(struct hp_site *s);
void hp_site_push(struct hp_site *s, struct hp_patch *p, uintptr_t repl);
/* Position of p's layer in s (s->nlayers when it has none). */
size_t hp_site_layer_of(const struct hp_site *s, const struct hp_patch *p);
void hp_site_drop(struct hp_site *s, const struct hp_patch *p);

/* The patch named name, or by id given in decimal; the newest for NULL/"". */
struct hp_patch *hp_patch_find(const char *name);
/* Gives p the next id and appends it (it is applied). */
void hp_patch_add(struct hp_patch *p);
void hp_patch_remove(struct hp_patch *p);
void hp_patch_free(struct hp_patch *p);

/* Sites ever made, and how many of them are patched now (for status). */
void hp_registry_counts(size_t *sites, size_t *patched);

/* ---- the verification rules (hp_verify.c) ----
 *
 * Each rule returns 0 or a negative HP_E* code with a one-line reason in
 * err, and looks only at its arguments, so each can be tested alone. */

/* entry offset and expected size agree with the endbr64 flag */
int hp_rule_entry_layout(const struct hp_manifest_func *f, char *err, size_t errlen);
/* the padding and the expected bytes lie in an executable segment */
int hp_rule_in_image(const struct hp_manifest_func *f, const struct hp_image *img, char *err,
		     size_t errlen);
/* the padding is one aligned quadword, the entry one aligned word */
int hp_rule_aligned(const struct hp_manifest_func *f, uintptr_t sym, char *err, size_t errlen);
/* code (expected_size bytes from sym, with the entry as built) hashes to
 * what the package was built against */
int hp_rule_expected_bytes(const struct hp_manifest_func *f, const uint8_t *code, char *err,
			   size_t errlen);
/* an unpatched function carries the plugin's layout: 8 NOPs before it, a
 * 2-byte NOP at its entry (or the compiler's own first instruction when
 * the package says so), endbr64 when flagged */
int hp_rule_prepared(const struct hp_manifest_func *f, const uint8_t *code, uint64_t pad, char *err,
		     size_t errlen);
/* a function patched before still holds what the runtime wrote there */
int hp_rule_untouched(const struct hp_manifest_func *f, const struct hp_site *s, uint64_t pad,
		      uint16_t entry, char *err, size_t errlen);
/* no function is replaced twice by one package */
int hp_rule_unique(const struct hp_manifest *m, char *err, size_t errlen);
/* every proxy's target lies in the image */
int hp_rule_proxies(const struct hp_manifest *m, const struct hp_image *img, char *err,
		    size_t errlen);

/* Every rule for m against img. existing[i] gets the site that already
 * patches function i, or NULL. Caller holds the registry lock. */
int hp_verify_target(const struct hp_manifest *m, const struct hp_image *img,
		     struct hp_site **existing, char *err, size_t errlen);

/* ---- the package in memory (hp_load.c) ---- */

struct hp_loaded;

/* The caller's package as read now. */
struct hp_sealed {
	int fd; /* sealed copy (once loaded); that of *old when it is the same package */
	struct hp_loaded *old; /* a package with these bytes loaded before, or NULL */
	uint8_t *bytes;	       /* what was read: what is verified */
	size_t size;
	uint64_t delta; /* how far its link-time addresses were moved */
};

/* Reads fd into memory (or finds the same bytes loaded before). */
int hp_read_package(int fd, struct hp_sealed *s, char *err, size_t errlen);
/* After a failed apply: what was made and nothing keeps. */
void hp_sealed_release(struct hp_sealed *s);
/* After a successful apply: the sealed copy belongs to the registry. */
void hp_sealed_keep(void *dl, struct hp_sealed *s);
/* Writes the sealed copy — moved next to target's code when it can be
 * (hp_rebase.c), so the padding's jump reaches the replacements — and
 * dlopen()s it; pbias gets the address the manifest's offsets are from. */
int hp_load_package(struct hp_sealed *s, const struct hp_image *target, void **dl, uintptr_t *pbias,
		    char *err, size_t errlen);
/* Fills the package's proxy slots with the target's addresses. */
int hp_fill_slots(const struct hp_manifest *m, uintptr_t tbias, uintptr_t pbias, struct hp_cw *cw,
		  char *err, size_t errlen);
/* Whether m's signer may run code here (HOTPATCH_TRUSTED_KEYS). */
int hp_trust_check(const struct hp_manifest *m, char *err, size_t errlen);
/* Whether signatures are required, and how many keys are trusted. */
int hp_trust_required(size_t *keys);

/* ---- the write sequence (hp_write.c) ---- */

/* One site's change in one operation. */
struct hp_switch {
	struct hp_site *site;
	uintptr_t to;	     /* the replacement to run; 0: the original code */
	uint64_t pad;	     /* the padding's jump towards to (routed) */
	int via_slot;	     /* to is reached through the site's trampoline */
	uintptr_t new_tramp; /* a trampoline this operation allocated */
};

/* Routes every switch (direct rel32 or through a trampoline) and makes
 * the pages writable, naming failpoints of apply or of revert. On failure
 * the trampolines it allocated are freed again. */
int hp_write_prepare(struct hp_switch *sw, size_t n, int revert, struct hp_cw *cw, char *err,
		     size_t errlen);
/* Frees what hp_write_prepare allocated (no code was written). */
void hp_write_undo(struct hp_switch *sw, size_t n);
/* The stores, in the order that keeps every thread on old or new code.
 * Cannot fail. Runs before the registry's layers change. */
void hp_write_commit(struct hp_switch *sw, size_t n);
/* Gives every padding a slice's reverts left jumping its original bytes
 * back; with the registry lock held, before hp_cw_hold_end. */
void hp_write_settle(void);

#endif
