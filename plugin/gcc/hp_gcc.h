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

/* A growable array of interned names (each list is a set); adding copies
 * the name. */
struct hp_gcc_names {
	const char **v;
	size_t n;
	size_t cap;
};

void hp_gcc_names_add(struct hp_gcc_names *l, const char *name);

/* Garbage collection. GCC calls ggc_collect() at the end of nearly every
 * pass (execute_one_pass, unless TODO_do_not_ggc_collect), so whatever the
 * plugin keeps from one callback to a later one lives across collections:
 * the cgraph removal hook and the body pass fill hp_gcc_early and
 * hp_gcc_funcs function by function, the RTL entry pass reads them, and
 * PLUGIN_FINISH_UNIT drains them once the whole back end has run. Their
 * containers are plain heap memory the collector does not scan, and what
 * GCC itself still refers to is no guarantee: a GNU C nested function
 * inlined into its parent is held only by the parent's BLOCK tree, and once
 * the parent is expanded and its body released, the next collection frees
 * the nested function's decl and its name ("inner.0"). When hp_gcc_early
 * was keyed by decl, the next function's hp_gcc_close_inlined() read that
 * freed decl: an ICE at -O1 under --param ggc-min-expand=0 --param
 * ggc-min-heapsize=0 (tests/plugin/inputs/gc.c, test_gc.sh). So:
 *  - every name stored past one callback is a copy (hp_gcc_intern, and
 *    hp_gcc_names_add copies what it adds): hp_gcc_func's name, origin,
 *    cold_name and name lists, hp_gcc_early's keys and sets,
 *    hp_gcc_never_written, the asm callees, patch mode's proxy and entry
 *    names. A not-patchable reason is a literal or a copy too.
 *  - hp_gcc_early is keyed by the function's name, not by its decl.
 *  - every tree stored past one callback goes through hp_gcc_keep(), which
 *    chains it from a GC root (PLUGIN_REGISTER_GGC_ROOTS): hp_gcc_func's
 *    decl (read for TREE_ASM_WRITTEN at the end, and compared by address),
 *    patch mode's proxy targets (compared by address) and slots, and the
 *    copies of compiler-made tables. A root, rather than an argument that
 *    GCC still refers to each of them, because that argument is what
 *    failed for hp_gcc_early.
 *  - patch mode's compiler-made tables are found by DECL_UID, never by
 *    address, so the originals need not be kept.
 * Trees in auto_vecs or hash_maps local to one callback (the hash walk's
 * locals, the asm texts of the unit) need nothing: no collection runs
 * inside a callback. */

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

/* hp_gcc_keep.cc. An interned copy of s, outside GC memory; lives until
 * the compiler exits. */
const char *hp_gcc_intern(const char *s);
/* t, kept alive (and its address unused by anything else) to the end of
 * the compilation by a GC root; returns t. */
tree hp_gcc_keep(tree t);
/* Registers that root (PLUGIN_REGISTER_GGC_ROOTS); from plugin_init. */
void hp_gcc_keep_setup(const char *plugin_name);

/* The symbol name of a function or global variable decl: the string of
 * an identifier, in GC memory, so copied (hp_gcc_intern) to be kept. */
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
