/* What the runtime's files share with each other; nothing here is exported. */
#ifndef HP_INTERNAL_H
#define HP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define HP_BUILDING_LIBHOTPATCH /* strong definitions of the weak API (hotpatch.h) */
#include "hotpatch/hotpatch.h"
#include "hp_package.h"
#include "hp_pkg_internal.h"

#define HP_EXPORT __attribute__((visibility("default")))
#define HP_MAX_SEGMENTS 32

/* The runtime reports errors the way the package reader does: one
 * formatter serves both. */
#define hp_seterr hp_pkg_seterr

/* ---- loaded images (hp_image.c) ---- */

struct hp_segment {
	uint64_t vaddr, memsz; /* link-time address range */
	uint32_t flags;	       /* PF_* */
};

struct hp_image {
	uintptr_t bias; /* dlpi_addr */
	char name[256]; /* dlpi_name, or "main program" */
	size_t nseg;
	struct hp_segment seg[HP_MAX_SEGMENTS];
};

/* Finds the loaded image whose NT_GNU_BUILD_ID note equals id. */
int hp_image_by_build_id(const uint8_t *id, size_t len, struct hp_image *out);
/* Whether [off, off+len) lies inside one PT_LOAD having all flags. */
int hp_image_contains(const struct hp_image *img, uint64_t off, uint64_t len, uint32_t flags);

/* ---- code writing (hp_codewrite.c) ---- */

/* Pages made writable during one operation, with their original protection. */
struct hp_cw {
	struct hp_cw_page {
		uintptr_t addr;
		int prot;
	} * pages;
	size_t n, cap;
	char *maps;   /* /proc/self/maps snapshot, without PROCMAP_QUERY */
	int maps_fd;  /* its descriptor + 1 (0: not open yet) */
	int no_query; /* the kernel lacks PROCMAP_QUERY */
};

/* Makes [addr, addr+len) writable, keeping every other permission (code
 * stays executable). Returns -HP_EWX when the kernel refuses W+X. */
int hp_cw_prepare(struct hp_cw *cw, uintptr_t addr, size_t len, char *err, size_t errlen);
/* Restores every page's protection and frees cw's memory. */
void hp_cw_finish(struct hp_cw *cw);
/* Between these (called with the operation flag held throughout), pages
 * made writable stay writable: hp_cw_finish leaves them to
 * hp_cw_hold_end, which restores them all. */
void hp_cw_hold_begin(void);
void hp_cw_hold_end(void);
/* Whether a hold is on (on the thread that holds the operation flag). */
int hp_cw_holding(void);
/* In a child forked between them: restores the pages at once. */
void hp_cw_atfork_child(void);

/* Nanoseconds on clock (async-signal-safe: the old-code look's handler
 * times itself with it). */
static inline uint64_t hp_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Code is a 0-byte object to the compiler: launder the address so reads and
 * writes are not reordered or folded. */
static inline volatile uint8_t *hp_code_ptr(uintptr_t a)
{
	__asm__ volatile("" : "+r"(a));
	return (volatile uint8_t *)a;
}

static inline void hp_store8(uintptr_t a, uint64_t v)
{
	__atomic_store_n((volatile uint64_t *)hp_code_ptr(a), v, __ATOMIC_SEQ_CST);
}

static inline uint64_t hp_load8(uintptr_t a)
{
	return __atomic_load_n((volatile uint64_t *)hp_code_ptr(a), __ATOMIC_SEQ_CST);
}

/* The padding jump: the 5 bytes right before a function's symbol. */
#define HP_PAD_BYTES 5u

/* Do the len bytes at a lie in one aligned quadword? Then one atomic 8-byte
 * store changes them all at once, whatever their own alignment: the
 * padding of one layout ends at its aligned entry (8 NOPs before it), that
 * of the other shares a quadword with the entry's 2 bytes (5 NOPs at a
 * 16-byte boundary, entry at 5 mod 16). */
static inline int hp_in_one_quad(uintptr_t a, unsigned len)
{
	return len <= 8 && (a & 7) + len <= 8;
}

static inline uint64_t hp_quad_mask(uintptr_t a, unsigned len)
{
	return (len == 8 ? ~0ull : (1ull << (8 * len)) - 1) << (8 * (a & 7));
}

/* The len bytes at a (hp_in_one_quad), little-endian in the low bytes. */
static inline uint64_t hp_load_in_quad(uintptr_t a, unsigned len)
{
	uint64_t q = hp_load8(a & ~(uintptr_t)7);

	return (q & hp_quad_mask(a, len)) >> (8 * (a & 7));
}

/* Stores the len low bytes of v at a (hp_in_one_quad) with one aligned
 * 8-byte store; the quadword's other bytes are stored as they are. Only for
 * code whose every writer holds the registry lock. */
static inline void hp_store_in_quad(uintptr_t a, uint64_t v, unsigned len)
{
	uintptr_t q = a & ~(uintptr_t)7;
	uint64_t mask = hp_quad_mask(a, len);

	hp_store8(q, (hp_load8(q) & ~mask) | ((v << (8 * (a & 7))) & mask));
}

/* Registers for core serialisation (idempotent; call again after fork). */
void hp_sync_init(void);
/* Serialises every core running this process (membarrier SYNC_CORE, or a
 * TLB-shootdown fallback). */
void hp_sync_cores(void);
/* How many times hp_sync_cores ran (each an IPI to every core running the
 * process): what the write sequence costs the program, for tests. */
unsigned long hp_sync_count(void);
/* "membarrier-sync-core" or "mprotect-ipi", for status. */
const char *hp_sync_mode(void);

/* ---- trampolines (hp_tramp.c) ---- */

/* A trampoline `jmp *slot(%rip)` reachable with rel32 from both lo and hi.
 * *slot is its 8-byte target, writable without mprotect. */
int hp_tramp_alloc(uintptr_t lo, uintptr_t hi, uintptr_t *jmp, uintptr_t *slot, char *err,
		   size_t errlen);
/* Maps len bytes (anonymous, prot) at an address aligned to align such
 * that the whole mapping is within rel32 reach of [lo, hi], never over
 * anything mapped already. Returns the address, or 0 when no such space
 * is free. */
uintptr_t hp_map_near(uintptr_t lo, uintptr_t hi, size_t len, size_t align, int prot);
/* Returns a trampoline that no thread has ever been sent to. */
void hp_tramp_free(uintptr_t jmp);
/* Trampolines in use, for status. */
size_t hp_tramp_in_use(void);

/* ---- operations (hp_registry.c, hp_patch.c; hp_core.h has the parts) ---- */

/* One apply/revert at a time, process-wide: returns 0, or -EBUSY. The
 * thread that took the flag gives it back (hp_op_end) once its operation
 * has ended, before it answers: the C API around one call, a control
 * connection around run_op(). */
int hp_op_begin(void);
void hp_op_end(void);
/* Apply/revert while the caller holds the operation flag. */
int hp_apply_locked(int fd, const struct hp_apply_opts *opts, unsigned *id, char *err,
		    size_t errlen);
int hp_revert_locked(const char *patch, unsigned *id, char *err, size_t errlen);
/* A rehearsal's slice of cycles, all under one operation flag: between
 * these, pages made writable stay so (hp_cw_hold_begin) and reverts leave
 * the paddings jumping (hp_write_settle); the end puts both back. */
void hp_slice_begin(void);
void hp_slice_end(void);
/* In a child forked during a slice: the slice ends there at once. */
void hp_slice_atfork_child(void);
/* Around fork(): the registry lock is held across it, so a child is
 * forked before an apply or revert commits or after, never in the middle
 * of one (with some functions switched and others not); the child gets
 * the lock reset. */
void hp_patch_atfork_prepare(void);
void hp_patch_atfork_parent(void);
void hp_patch_atfork_child(void);
/* Test hook: milliseconds each apply sleeps after reading the package,
 * before its checks (from HOTPATCH_TEST_APPLY_DELAY_MS), to make a
 * concurrent apply observable. */
extern unsigned hp_test_apply_delay_ms;

/* Trusted keys (HOTPATCH_TRUSTED_KEYS), loaded once by the constructor:
 * from then on every package must be signed by one of them. A directory
 * that fails to load leaves the runtime trusting no key at all, so it
 * refuses everything rather than accept unsigned code. Returns 0 or the
 * load error with its reason in err (for the start-up message). */
int hp_trust_init(const char *dir, char *err, size_t errlen);

/* ---- failpoints (hp_failpoint.c) ---- */

enum hp_failpoint {
	HP_FP_NONE,
	HP_FP_APPLY_READ,
	HP_FP_APPLY_MANIFEST,
	HP_FP_APPLY_TRUST,
	HP_FP_APPLY_ALLOC,
	HP_FP_APPLY_TARGET,
	HP_FP_APPLY_VERIFY,
	HP_FP_APPLY_CHECK_CODE,
	HP_FP_APPLY_LOAD,
	HP_FP_APPLY_SLOTS,
	HP_FP_APPLY_PRE_HOOKS,
	HP_FP_APPLY_NEW_SITE,
	HP_FP_APPLY_LAYER,
	HP_FP_APPLY_ROUTE,
	HP_FP_APPLY_WRITABLE,
	HP_FP_REVERT_FIND,
	HP_FP_REVERT_PRE_HOOKS,
	HP_FP_REVERT_ALLOC,
	HP_FP_REVERT_ROUTE,
	HP_FP_REVERT_WRITABLE,
	HP_FP_COUNT
};

/* 0, or (armed for fp, its hit reached) the step's error with
 * "failpoint NAME: ..." in err: the caller then skips the step and takes
 * its failure path. */
int hp_fp(enum hp_failpoint fp, char *err, size_t errlen);
/* Arms "NAME" (its first hit) or "NAME:N" (its Nth) for one operation. */
int hp_fp_arm(const char *spec, char *err, size_t errlen);
/* Disarms; returns whether the armed failpoint fired. */
int hp_fp_disarm(void);
size_t hp_fp_count(void);
const char *hp_fp_name(size_t i);

/* ---- functions still running old code (hp_active.c) ---- */

/* Old code of one replaced function, [start, end); ranges given to the
 * scan are sorted by start and do not overlap. */
struct hp_code_range {
	uintptr_t start, end;
	unsigned patch; /* the patch that replaced it */
	const char *name;
};

struct hp_active_hit {
	pid_t tid;
	size_t range;  /* index into the ranges scanned */
	int executing; /* its pc is in the range (not only a frame) */
};

#define HP_ACTIVE_UNCHECKED_MAX 8
struct hp_active_unchecked {
	pid_t tid;
	const char *why; /* a static string */
};

struct hp_active_report {
	struct hp_active_hit *hits;
	size_t nhits, cap;
	size_t threads, checked, signalled; /* other than the caller's */
	size_t nunchecked;		    /* the first few are kept: */
	struct hp_active_unchecked unchecked[HP_ACTIVE_UNCHECKED_MAX];
	uint64_t pause_ns_max, pause_ns_total; /* of the signalled threads */
	uint64_t scan_ns;
};

/* Looks at every other thread's stack (see hp_active.c) for frames in
 * the ranges. Returns 0 or a negative errno; free out's hits with
 * hp_active_report_free(). */
int hp_active_scan(const struct hp_code_range *r, size_t n, struct hp_active_report *out);
void hp_active_report_free(struct hp_active_report *r);

/* The original code of every function patch id (0: every applied patch)
 * replaced, sorted, one range per function (its oldest patch): a
 * malloc'ed array whose names live in the same block. */
int hp_patch_code_ranges(unsigned id, struct hp_code_range **out, size_t *n);

/* ---- rendering for the control channel (hp_render.c) ---- */

/* Renders list (status=0) or status (status=1) as text or JSON into a
 * malloc'ed string. */
int hp_render(int status, int json, char **out);
/* Appends to f which functions of patch id (0: every applied patch) a
 * thread is still inside: a scan of every thread, rendered. status (every
 * patch): lines "patch N: ...", a summary line, and a failed scan said in
 * text or JSON. Else (an apply's reply): the lines, and a failed scan in
 * text only. JSON members come after a comma, without braces. */
void hp_render_old_code(FILE *f, unsigned id, int json, int status);

/* ---- control listener (hp_control.c) ---- */
const char *hp_listener_path(void);

/* ---- moving a package next to its target (hp_rebase.c) ---- */

/* The package's loadable extent at link time: lowest address (aligned),
 * length (page-rounded), largest segment alignment. */
int hp_pkg_extent(const void *bytes, size_t size, uint64_t *lo, uint64_t *len, uint64_t *align);
/* Moves every link-time address of the package in bytes by delta.
 * -ENOTSUP when it holds something this cannot move; bytes are then
 * partly moved and must not be used. */
int hp_pkg_rebase(void *bytes, size_t size, uint64_t delta);

/* hp_pkg_code.c: the package's ELF image (bytes, as read) has no code
 * that runs while it is loaded, and every replacement and slot of m lies in
 * its segments. Before dlopen(). Returns 0 or a negative error with err. */
int hp_pkg_check_code(const void *bytes, size_t size, const struct hp_manifest *m, char *err,
		      size_t errlen);

#endif
