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

/* Trees outside the collector's sight. The plugin keeps trees, and names
 * that are the IDENTIFIER_POINTER strings of decls (hp_gcc_symbol_name()
 * returns no copy), in memory GCC's garbage collector does not scan:
 * hp_gcc_funcs (xmalloc'd hp_gcc_func: decl, name, origin, the name lists),
 * hp_gcc_early (a new'd hash_map keyed by FUNCTION_DECL, hp_gcc_inline.cc),
 * hp_gcc_never_written (names), hp_gcc_proxies (trees), and auto_vecs local
 * to one callback.
 *
 * Only those auto_vecs are free of GC points: no callback collects. The
 * rest live across many, since GCC calls ggc_collect() at the end of
 * every pass (execute_one_pass, unless TODO_do_not_ggc_collect): the body
 * pass and the cgraph removal hook fill them function by function, the
 * RTL entry pass reads them, PLUGIN_FINISH_UNIT drains them once the whole
 * back end has run. What keeps their contents alive is that GCC itself
 * still refers to each object:
 *  - an hp_gcc_func's decl is a function GCC expanded: expansion releases
 *    the body and the call edges but keeps the cgraph node, and the symbol
 *    table is a GC root to the end of the unit. The decl keeps its
 *    DECL_ASSEMBLER_NAME identifier, whose string is f->name. (Identifiers
 *    are no roots themselves after parsing: ggc_protect_identifiers is then
 *    false and the identifier table is weak.)
 *  - a C file-scope function or variable stays reachable from
 *    all_translation_units (the BLOCK_VARS of the unit) to the end, so the
 *    names of such callees, inlined functions, clone origins and variables
 *    stay valid; so do emitted variables (varpool nodes).
 *  - patch mode: each slot is a varpool node (finalize_decl); tables are
 *    found by DECL_UID and their copies are varpool nodes; entry names are
 *    interned.
 * Not covered: a decl that GCC makes itself or that only a function body
 * holds (ipa-split's foo.part.0, a static local), once its node is removed
 * and the body released. A key of hp_gcc_early (hp_gcc_early_by_name()
 * reads every key's name) or a name taken from such a decl may then point
 * into freed memory if a collection ran in between. Collections are rare
 * in small units (ggc_collect() does nothing below ggc-min-heapsize
 * growth), so the tests cannot show it. Interning those names
 * (hp_gcc_intern) and keying hp_gcc_early by DECL_UID, as hp_gcc_patch.cc
 * does for its tables, or a GC root (PLUGIN_REGISTER_GGC_ROOTS) would
 * close it. */

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
