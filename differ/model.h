/* The in-memory model mkpatch diffs: one mp_program per binary (OLD, NEW,
 * and the linked patch), holding its translation units, functions and
 * variables as the plugin recorded them. Like kpatch's model, every entity
 * has a twin in the other program and a status. */
#ifndef MP_MODEL_H
#define MP_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"
#include "strmap.h"

enum mp_status {
	MP_SAME = 0, /* twin exists, same hash */
	MP_CHANGED,  /* twin exists, hash differs */
	MP_NEW,	     /* no twin in OLD */
	MP_GONE,     /* (OLD side) no twin in NEW */
};

/* Why a function is in P (bit set). */
enum {
	MP_WHY_SOURCE = 1u << 0,  /* its own hash changed */
	MP_WHY_INLINES = 1u << 1, /* it inlines a function of P (cause) */
	MP_WHY_NEW = 1u << 2,	  /* new function, kept in the patch */
	MP_WHY_CLONE = 1u << 3,	  /* compiler clone of origin */
	MP_WHY_CONST = 1u << 4,	  /* it uses a changed read-only variable (cause_var) */
	MP_WHY_MACHINE = 1u << 5, /* same IR hash, different machine code */
	MP_WHY_LINES = 1u << 6,	  /* only the line numbers it passes changed */
};

struct mp_tu {
	const char *source, *cwd, *output, *compiler_version, *plugin_version;
	const char **argv; /* argc strings */
	uint32_t argc, flags, compiler, hash_rules;
	const char **refs; /* resolved string offsets of the record's refs[] */
	uint32_t nrefs;
	struct mp_tu *twin;
	bool recompile;
};

struct mp_func {
	const char *name, *origin, *not_patchable_reason;
	const char *norm; /* name with clone numbers dropped (correlation key) */
	uint64_t address, hash, size;
	uint32_t flags, entry_offset;
	uint32_t line_hash; /* hp_md_func_disk.line_hash */
	/* Same body hash; only the __LINE__ values it passes to calls differ
	 * (a line inserted above an assert). Not in S unless asked for. */
	bool lines_only;
	const char **inlined, **calls, **vars;
	uint32_t ninlined, ncalls, nvars;
	struct mp_tu *tu;
	struct mp_func *twin;
	struct mp_func *next_same_key; /* chain in the correlation map */
	enum mp_status status;
	unsigned why;		     /* MP_WHY_* */
	const struct mp_func *cause; /* for MP_WHY_INLINES */
	/* MP_WHY_SOURCE with no changed inlinee found: how many of the
	 * functions it inlines have no body of their own in NEW (so their
	 * change, if any, shows only here), and the first of them */
	uint32_t nbodiless;
	const char *bodiless;
	const struct mp_var *cause_var; /* for MP_WHY_CONST (NEW's variable) */
	bool in_p;			/* replaced (OLD twin exists) or new-kept */
	/* a fragment of its origin's body (foo.cold) whose origin is in P:
	 * the origin's replacement brings its own fragment, so this one
	 * needs no redirect (threads in it return into the old origin) */
	const struct mp_func *with_origin;
	/* its signature changed (DWARF): it goes into the package as a new
	 * function beside the old one, which keeps its code and entry, so a
	 * caller in flight (old code) still calls the old function with the
	 * old arguments; every caller is in P and calls the new one */
	bool beside_old;
};

struct mp_var {
	const char *name, *owner, *source_name;
	uint64_t address, size, init_hash;
	uint32_t flags;
	struct mp_tu *tu;
	struct mp_var *twin;
	enum mp_status status;
	/* Changed read-only data (const, not TLS, in both builds; size or
	 * initial value differs): not refused; the patch carries NEW's copy and
	 * every function using it is replaced. Set by mp_compare. */
	bool const_changed;
};

struct mp_program {
	const char *label; /* "OLD", "NEW", "patch": for messages */
	struct mp_elf elf;
	struct mp_tu *tus;
	uint32_t ntus;
	struct mp_func *funcs;
	uint32_t nfuncs;
	struct mp_var *vars;
	uint32_t nvars;
	struct mp_map func_by_name; /* (name, tu source or "" if external) */
	struct mp_map var_by_name;
	struct mp_map tu_by_source;
};

/* Opens path, reads its symbols and its .hotpatch metadata. A binary
 * without metadata is HP_ENOMETA. Everything is bounds-checked. */
int mp_program_open(struct mp_program *p, const char *path, const char *label, struct mp_diag *d);
void mp_program_release(struct mp_program *p);

/* Parses metadata bytes into p (used by mp_program_open; exposed for
 * unit tests and fuzzing). p->elf need not be open. */
int mp_metadata_parse(struct mp_program *p, const uint8_t *md, size_t size, struct mp_diag *d);

/* Looks a referenced symbol up from tu: a local of that TU first, then an
 * external one. NULL if not recorded. */
struct mp_func *mp_find_func(const struct mp_program *p, const char *name, const struct mp_tu *tu);
struct mp_var *mp_find_var(const struct mp_program *p, const char *name, const struct mp_tu *tu);

/* The correlation key of a (possibly cloned) function name: clone numbers
 * removed, ".llvm.<hash>" removed. Returns a malloc'ed string or NULL. */
char *mp_clone_key(const char *name);
bool mp_is_clone_name(const char *name);

#endif
