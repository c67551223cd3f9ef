/* State shared by the parts of hotpatch-gcc.so.
 *
 * One hp_gcc_func per function the compiler emits, filled in pipeline
 * order: the GIMPLE pass after "optimized" creates it (hash, inline graph,
 * references), the RTL pass before "shorten" adds the entry layout, and
 * PLUGIN_FINISH_UNIT writes every record into .hotpatch. GCC runs the whole
 * post-IPA pipeline one function at a time, so the RTL pass finds its
 * record as the most recent one.
 */
#ifndef HP_GCC_H
#define HP_GCC_H

#include "hp_gcc_compat.h"

#include <stdint.h>

struct hp_md_var_desc;

#define HP_GCC_PLUGIN_NAME "hotpatch-gcc"

/* A growable array of interned names (each list is a set). */
struct hp_gcc_names {
	const char **v;
	size_t n;
	size_t cap;
};

void hp_gcc_names_add(struct hp_gcc_names *l, const char *name);

struct hp_gcc_func {
	tree decl;
	const char *name; /* symbol name, as in the object's symtab */
	uint64_t hash;
	uint32_t line_hash; /* hp_md_func_disk.line_hash */
	uint32_t flags;	    /* HP_MD_FUNC_* */
	uint32_t entry_offset;
	const char *origin;    /* clone origin or NULL */
	const char *reason;    /* why not patchable, or NULL */
	const char *cold_name; /* "foo.cold" when GCC split off a cold part */
	struct hp_gcc_names inlined;
	struct hp_gcc_names calls;
	struct hp_gcc_names vars;
};

struct hp_gcc_options {
	bool dump; /* HOTPATCH_GCC_DUMP=1: print every record to stderr */
};

extern struct hp_gcc_options hp_gcc_opts;

/* Interned copy of s; lives until the compiler exits. */
const char *hp_gcc_intern(const char *s);

/* The symbol name of a function or global variable decl. */
const char *hp_gcc_symbol_name(tree decl);

/* The record of the function being compiled, NULL if none. */
struct hp_gcc_func *hp_gcc_current_func(tree decl);
struct hp_gcc_func *hp_gcc_new_func(tree decl);

/* hp_gcc_body.cc: the GIMPLE pass (hash, inline graph, references). */
opt_pass *hp_gcc_make_body_pass(gcc::context *ctxt);

/* Functions that inline assembly calls or jumps to by name (hp_asm_scan.h):
 * noted from every asm statement and the top-level asm, then recorded as
 * not patchable. where: "f()" or "a top-level asm statement". */
void hp_gcc_note_asm_branches(const char *text, const char *where);
void hp_gcc_note_toplevel_asm(void *gcc_data, void *user_data);
/* Why the function of this name is not patchable because of it, or NULL. */
const char *hp_gcc_asm_caller_reason(const char *name);

/* hp_gcc_emit.cc, PLUGIN_ALL_IPA_PASSES_END: note the writable variables
 * that no code writes (HP_MD_VAR_NEVER_WRITTEN). */
void hp_gcc_note_never_written(void *gcc_data, void *user_data);

/* hp_gcc_inline.cc: what was inlined before the body pass can see it. */
void hp_gcc_watch_inlining(void);
void hp_gcc_collect_blocks(struct hp_gcc_names *out, tree fndecl, tree block);
void hp_gcc_close_inlined(struct hp_gcc_names *inlined, tree fndecl);
uint64_t hp_gcc_hash_initializer(tree decl);

/* hp_gcc_entry.cc: padding, alignment and the 2-byte entry. */
opt_pass *hp_gcc_make_entry_pass(gcc::context *ctxt);
void hp_gcc_entry_setup(void);

/* hp_gcc_patch.cc: patch mode (HOTPATCH_PATCH_SPEC, docs/patch-mode.md). */
extern bool hp_gcc_patch_mode;
bool hp_gcc_patch_load(void);
void hp_gcc_patch_ipa_end(void *gcc_data, void *user_data);
unsigned int hp_gcc_patch_rewrite(function *fun);
bool hp_gcc_patch_is_target(tree decl);
void hp_gcc_patch_add_proxies(vec<struct hp_md_var_desc> *out);

/* hp_gcc_emit.cc: the .hotpatch record. */
void hp_gcc_pin_static_var(tree decl);
void hp_gcc_emit_unit(void);

#endif
