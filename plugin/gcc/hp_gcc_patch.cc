/* Patch mode (docs/patch-mode.md): HOTPATCH_PATCH_SPEC names what the
 * running image already has.
 *
 *   keep NAME      body kept
 *   old-func NAME  body dropped unless kept; every use goes through a slot
 *   old-var NAME   definition dropped; every use goes through a slot
 *
 * The TU is compiled exactly as in base mode up to the end of the IPA
 * passes, so inlining and every other decision about the kept bodies are
 * NEW's. Then (PLUGIN_ALL_IPA_PASSES_END) the definitions to drop are made
 * external, the way GCC treats a gnu_inline "extern inline" function: its
 * body still serves the inline copies already decided, but is never
 * output. Global initialisers are checked there too: an old symbol in one
 * cannot become a load.
 *
 * After each kept function is optimised and hashed (hp_gcc_body.cc), every
 * reference to a target becomes a load of its slot, a static pointer
 * "__hp_proxy.NAME" in section hotpatch_proxy that the runtime fills with
 * the running image's address of NAME:
 *
 *   f (x)       ->  p = __hp_proxy.f;  p (x)
 *   v           ->  p = __hp_proxy.v;  MEM[p]
 *   &v.a[i]     ->  p = __hp_proxy.v;  q = &MEM[p].a[i];  q
 *
 * Constants GCC makes (an initialised local aggregate placed in the
 * constant pool, ".LC1" = { &lim.e, &lim.d, ... } at -Os; a CSWTCH switch
 * table) may hold addresses of old symbols, which no load can replace in
 * an initialiser. A kept body that uses one is given a copy instead,
 * "__hp_table.N" in hotpatch_proxy: writable (never written by code: it
 * was a constant), each entry that pointed into an old symbol holding its
 * offset into that symbol and described by a proxy record naming
 * "__hp_entry.N.OFFSET"; mkpatch adds the offset to the target's address
 * and the runtime fills the entry like any slot. The original is never
 * output, so a table only dropped bodies used goes with them.
 *
 * What the plugin refuses (an unsafe change, not a broken compile) it also
 * writes, one line each, to the spec's refusals file for mkpatch.
 */
#include "hp_gcc.h"

#include "hp_md_writer.h"
#include "hp_metadata_format.h"
#include "hp_patch_spec.h"

#include <string.h>

extern char **environ;

#define HP_GCC_PROXY_SECTION "hotpatch_proxy"
#define HP_GCC_PROXY_PREFIX "__hp_proxy."

bool hp_gcc_patch_mode;

static struct hp_patch_spec hp_gcc_spec;

/* One slot per target that kept code refers to, in creation order. Both
 * trees are kept by hp_gcc_keep: targets are compared by address. */
struct hp_gcc_proxy {
	tree target;
	tree slot;
	const char *name; /* target's symbol name */
};

static vec<struct hp_gcc_proxy> hp_gcc_proxies;

/* ---- the spec ---------------------------------------------------------- */

/* Only HOTPATCH_PATCH_SPEC is defined; a misspelt HOTPATCH_PATCH_* or
 * HOTPATCH_PLUGIN_* variable is an error (as in the Clang plugin), never
 * silently a base-mode build. */
bool hp_gcc_patch_load(void)
{
	const char *path = getenv("HOTPATCH_PATCH_SPEC");
	char msg[512];
	char **e;

	for (e = environ; e && *e; e++) {
		size_t len = strcspn(*e, "=");

		if ((!strncmp(*e, "HOTPATCH_PATCH_", 15) || !strncmp(*e, "HOTPATCH_PLUGIN_", 16)) &&
		    !(len == 19 && !strncmp(*e, "HOTPATCH_PATCH_SPEC", 19))) {
			error("%s: unknown option %<%.*s%> in the environment (the plugin knows "
			      "only %<HOTPATCH_PATCH_SPEC%>)",
			      HP_GCC_PLUGIN_NAME, (int)len, *e);
			return false;
		}
	}
	if (!path)
		return true;
	if (hp_patch_spec_load(&hp_gcc_spec, path, msg, sizeof(msg))) {
		error("%s: %s", HP_GCC_PLUGIN_NAME, msg);
		return false;
	}
	hp_gcc_patch_mode = true;
	return true;
}

/* The symbol an alias stands for. With -fPIC -fno-semantic-interposition
 * (mkpatch's flags for a TU built without -fPIC) GCC calls a global function
 * of the TU through a local alias, reply_add.localalias: a use of the alias
 * is a use of the function, in the old image as here. */
static tree hp_gcc_unalias(tree decl)
{
	symtab_node *node = symtab_node::get(decl);

	if (!node || !node->alias)
		return decl;
	symtab_node *target = node->ultimate_alias_target();
	return target ? target->decl : decl;
}

/* HP_SPEC_OLD_FUNC / HP_SPEC_OLD_VAR if uses of decl go through a slot. */
static unsigned hp_gcc_target_kind(tree decl)
{
	unsigned kinds;

	decl = hp_gcc_unalias(decl);
	if (TREE_CODE(decl) == FUNCTION_DECL) {
		if (fndecl_built_in_p(decl) && !DECL_ASSEMBLER_NAME_SET_P(decl))
			return 0;
		kinds = hp_patch_spec_lookup(&hp_gcc_spec, hp_gcc_symbol_name(decl));
		return kinds & HP_SPEC_OLD_FUNC;
	}
	if (TREE_CODE(decl) == VAR_DECL && is_global_var(decl) && !DECL_HARD_REGISTER(decl)) {
		kinds = hp_patch_spec_lookup(&hp_gcc_spec, hp_gcc_symbol_name(decl));
		return kinds & HP_SPEC_OLD_VAR;
	}
	return 0;
}

bool hp_gcc_patch_is_target(tree decl)
{
	return hp_gcc_patch_mode && hp_gcc_target_kind(decl);
}

/* Report a refusal, "<before>'<culprit>'<after>", as a compiler error, and
 * write it for mkpatch with the source file after the culprit. */
static void hp_gcc_refuse(const char *before, const char *culprit, const char *after)
{
	char *line = concat(before, "'", culprit, "' (", main_input_filename, ")", after, NULL);
	int err = hp_patch_spec_refuse(&hp_gcc_spec, line);

	error("%s: %s%qs%s", HP_GCC_PLUGIN_NAME, before, culprit, after);
	if (err)
		error("%s: cannot write the refusals file %qs: %s", HP_GCC_PLUGIN_NAME,
		      hp_gcc_spec.refusals_path, xstrerror(-err));
	free(line);
}

/* ---- compiler-made tables -------------------------------------------------- */

/* A constant GCC made itself: the source never names it, so nothing
 * outside this TU refers to it. Our slots are artificial too, but
 * writable. */
static bool hp_gcc_is_compiler_made(tree decl)
{
	return VAR_P(decl) && DECL_ARTIFICIAL(decl) && TREE_STATIC(decl) && !TREE_PUBLIC(decl) &&
	       TREE_READONLY(decl) && !DECL_THREAD_LOCAL_P(decl);
}

/* A table found at the end of IPA, by DECL_UID (never reused, unlike the
 * address of a tree the collector may free), and its copy once a kept
 * body uses it (kept by hp_gcc_keep). */
struct hp_gcc_table {
	unsigned uid;
	tree copy;
	unsigned number;
};

static vec<struct hp_gcc_table> hp_gcc_tables;

/* One entry of a copy that the runtime fills. Names are interned. */
struct hp_gcc_entry {
	const char *table;  /* the copy's symbol */
	const char *symbol; /* __hp_entry.N.OFFSET */
	const char *target; /* the old symbol it points into */
	unsigned HOST_WIDE_INT offset;
};

static vec<struct hp_gcc_entry> hp_gcc_entries;

static struct hp_gcc_table *hp_gcc_table_of(tree decl)
{
	unsigned i;

	if (!VAR_P(decl))
		return NULL;
	for (i = 0; i < hp_gcc_tables.length(); i++)
		if (hp_gcc_tables[i].uid == DECL_UID(decl))
			return &hp_gcc_tables[i];
	return NULL;
}

/* ---- after IPA: drop old definitions, check initialisers ---------------- */

static tree hp_gcc_find_target(tree *tp, int *walk_subtrees, void *data)
{
	if (TYPE_P(*tp)) {
		*walk_subtrees = 0;
		return NULL_TREE;
	}
	if ((TREE_CODE(*tp) == FUNCTION_DECL || TREE_CODE(*tp) == VAR_DECL) &&
	    hp_gcc_target_kind(*tp))
		return *tp;
	if (data && hp_gcc_table_of(*tp))
		return *tp;
	if (DECL_P(*tp))
		*walk_subtrees = 0;
	return NULL_TREE;
}

/* An old symbol in *tp. */
static tree hp_gcc_target_in(tree *tp)
{
	return walk_tree_without_duplicates(tp, hp_gcc_find_target, NULL);
}

/* An old symbol or a compiler-made table holding one in *tp. */
static tree hp_gcc_rewrite_needed(tree *tp)
{
	static int with_tables;

	return walk_tree_without_duplicates(tp, hp_gcc_find_target, &with_tables);
}

static void hp_gcc_drop_function(cgraph_node *node)
{
	tree decl = node->decl;

	if (DECL_EXTERNAL(decl))
		return;
	/* What a gnu_inline extern inline function is: a body the inline
	 * copies already made from it use, never assembled itself. */
	DECL_EXTERNAL(decl) = 1;
	DECL_PRESERVE_P(decl) = 0;
	node->force_output = 0;
	node->forced_by_abi = 0;
	if (hp_gcc_opts.dump)
		fprintf(stderr, "hotpatch-gcc: patch: drop body of %s\n", hp_gcc_symbol_name(decl));
}

static void hp_gcc_drop_variable(varpool_node *node)
{
	tree decl = node->decl;

	/* The old image holds the state: no definition here, like an extern
	 * declaration. */
	DECL_EXTERNAL(decl) = 1;
	DECL_PRESERVE_P(decl) = 0;
	node->force_output = 0;
	node->forced_by_abi = 0;
	node->definition = 0;
	if (hp_gcc_opts.dump)
		fprintf(stderr, "hotpatch-gcc: patch: drop definition of %s\n",
			hp_gcc_symbol_name(decl));
}

void hp_gcc_patch_ipa_end(void *gcc_data, void *user_data)
{
	cgraph_node *fn;
	varpool_node *var;

	if (!hp_gcc_patch_mode || seen_error())
		return;
	FOR_EACH_FUNCTION(fn)
	{
		unsigned kinds;

		if (!fn->definition || fn->inlined_to || fn->alias || fn->thunk)
			continue;
		kinds = hp_patch_spec_lookup(&hp_gcc_spec, hp_gcc_symbol_name(fn->decl));
		if ((kinds & HP_SPEC_OLD_FUNC) && !(kinds & HP_SPEC_KEEP))
			hp_gcc_drop_function(fn);
	}
	FOR_EACH_VARIABLE(var)
	{
		tree decl = var->decl;

		if (!hp_gcc_target_kind(decl))
			continue;
		if (DECL_THREAD_LOCAL_P(decl)) {
			hp_gcc_refuse("thread-local variable ", hp_gcc_symbol_name(decl),
				      " cannot go through a proxy slot");
			return;
		}
		if (var->definition && !DECL_EXTERNAL(decl) && !var->alias)
			hp_gcc_drop_variable(var);
	}
	/* A slot is filled at run time: a constant initialiser cannot load it. */
	FOR_EACH_VARIABLE(var)
	{
		tree decl = var->decl, init = DECL_INITIAL(decl), target;

		if (!var->definition || DECL_EXTERNAL(decl) || !init || init == error_mark_node)
			continue;
		target = hp_gcc_target_in(&init);
		if (!target)
			continue;
		if (hp_gcc_is_compiler_made(decl)) {
			struct hp_gcc_table t = {DECL_UID(decl), NULL_TREE, hp_gcc_tables.length()};

			hp_gcc_tables.safe_push(t);
			continue;
		}
		char *why = concat(" refers to '", hp_gcc_symbol_name(target),
				   "' in a global initialiser: an old symbol there cannot go "
				   "through a proxy slot",
				   NULL);
		hp_gcc_refuse("", hp_gcc_symbol_name(decl), why);
		free(why);
	}
}

/* ---- the rewrite --------------------------------------------------------- */

static tree hp_gcc_slot(tree target)
{
	unsigned i;
	const char *name;
	char *slot_name;
	tree slot;

	target = hp_gcc_unalias(target);
	for (i = 0; i < hp_gcc_proxies.length(); i++)
		if (hp_gcc_proxies[i].target == target)
			return hp_gcc_proxies[i].slot;
	name = hp_gcc_symbol_name(target);
	slot_name = concat(HP_GCC_PROXY_PREFIX, name, NULL);
	slot = build_decl(BUILTINS_LOCATION, VAR_DECL, get_identifier(slot_name),
			  build_pointer_type(TREE_TYPE(target)));
	SET_DECL_ASSEMBLER_NAME(slot, get_identifier(slot_name));
	free(slot_name);
	TREE_STATIC(slot) = 1;
	TREE_PUBLIC(slot) = 0;
	TREE_USED(slot) = 1;
	DECL_ARTIFICIAL(slot) = 1;
	DECL_IGNORED_P(slot) = 1;
	DECL_PRESERVE_P(slot) = 1;
	DECL_CONTEXT(slot) = NULL_TREE;
	SET_DECL_ALIGN(slot, 64);
	DECL_USER_ALIGN(slot) = 1;
	DECL_INITIAL(slot) = build_zero_cst(TREE_TYPE(slot));
	set_decl_section_name(slot, HP_GCC_PROXY_SECTION);
	varpool_node::finalize_decl(slot);
	varpool_node::get(slot)->force_output = 1;

	struct hp_gcc_proxy p = {hp_gcc_keep(target), hp_gcc_keep(slot), hp_gcc_intern(name)};
	hp_gcc_proxies.safe_push(p);
	return slot;
}

/* ---- copies of compiler-made tables ---------------------------------------- */

/* The leaf t as old symbol + addend (&v, &v.f[3], &v p+ 8), or NULL. */
static tree hp_gcc_leaf_target(tree t, HOST_WIDE_INT *addend)
{
	poly_int64 off;
	HOST_WIDE_INT c;
	tree base;

	STRIP_NOPS(t);
	if (TREE_CODE(t) == POINTER_PLUS_EXPR && tree_fits_shwi_p(TREE_OPERAND(t, 1))) {
		base = hp_gcc_leaf_target(TREE_OPERAND(t, 0), addend);
		if (base)
			*addend += tree_to_shwi(TREE_OPERAND(t, 1));
		return base;
	}
	if (TREE_CODE(t) != ADDR_EXPR)
		return NULL_TREE;
	base = get_addr_base_and_unit_offset(TREE_OPERAND(t, 0), &off);
	if (!base || !DECL_P(base) || !hp_gcc_target_kind(base) || !off.is_constant(&c))
		return NULL_TREE;
	*addend = c;
	return base;
}

/* Byte offset of element (index, position n) of a CONSTRUCTOR of type, or
 * -1 when it has none a slot can use (a bit-field, a range). */
static HOST_WIDE_INT hp_gcc_elt_offset(tree type, tree index, HOST_WIDE_INT *next)
{
	if (TREE_CODE(type) == RECORD_TYPE || TREE_CODE(type) == UNION_TYPE) {
		if (!index || TREE_CODE(index) != FIELD_DECL || DECL_BIT_FIELD(index))
			return -1;
		return int_byte_position(index);
	}
	if (TREE_CODE(type) != ARRAY_TYPE || (index && TREE_CODE(index) != INTEGER_CST))
		return -1;
	tree domain = TYPE_DOMAIN(type), low = domain ? TYPE_MIN_VALUE(domain) : NULL_TREE;
	HOST_WIDE_INT size = int_size_in_bytes(TREE_TYPE(type));
	if (size <= 0 || (low && !tree_fits_shwi_p(low)))
		return -1;
	if (index)
		*next = tree_to_shwi(index) - (low ? tree_to_shwi(low) : 0);
	return (*next)++ * size;
}

/* init (at byte offset of its table) with every 8-byte, aligned leaf that
 * is an old symbol + constant replaced by the constant, one entry each in
 * out. NULL when an old symbol appears in another form. */
static tree hp_gcc_strip_targets(tree init, HOST_WIDE_INT offset,
				 vec<std::pair<HOST_WIDE_INT, tree>> *out)
{
	HOST_WIDE_INT addend = 0, next = 0;
	unsigned HOST_WIDE_INT i;
	tree index, value, target;

	if (!hp_gcc_target_in(&init))
		return init;
	if (TREE_CODE(init) == CONSTRUCTOR) {
		vec<constructor_elt, va_gc> *elts = NULL;

		FOR_EACH_CONSTRUCTOR_ELT(CONSTRUCTOR_ELTS(init), i, index, value)
		{
			HOST_WIDE_INT at = hp_gcc_elt_offset(TREE_TYPE(init), index, &next);
			tree v = value;

			if (hp_gcc_target_in(&v)) {
				if (at < 0)
					return NULL_TREE;
				v = hp_gcc_strip_targets(value, offset + at, out);
				if (!v)
					return NULL_TREE;
			}
			CONSTRUCTOR_APPEND_ELT(elts, index, v);
		}
		return build_constructor(TREE_TYPE(init), elts);
	}
	target = hp_gcc_leaf_target(init, &addend);
	if (!target || int_size_in_bytes(TREE_TYPE(init)) != 8 || offset % 8)
		return NULL_TREE;
	out->safe_push(std::make_pair(offset, target));
	return build_int_cst(TREE_TYPE(init), addend);
}

/* The copy a kept body uses in place of table t (made on first use). */
static tree hp_gcc_table_copy(struct hp_gcc_table *t, tree table)
{
	auto_vec<std::pair<HOST_WIDE_INT, tree>> entries;
	char number[32], *name;
	tree init, copy;
	unsigned i;

	if (t->copy)
		return t->copy;
	init = DECL_INITIAL(table);
	init = init && init != error_mark_node ? hp_gcc_strip_targets(init, 0, &entries) : NULL;
	if (!init) {
		tree target = hp_gcc_target_in(&DECL_INITIAL(table));
		char *why = concat(" holds '", target ? hp_gcc_symbol_name(target) : "?",
				   "' in a form a proxy slot cannot fill (not a pointer-sized, "
				   "aligned address)",
				   NULL);
		hp_gcc_refuse("compiler-made table ", hp_gcc_symbol_name(table), why);
		free(why);
		return table;
	}
	snprintf(number, sizeof(number), "%u", t->number);
	name = concat("__hp_table.", number, NULL);
	copy = build_decl(DECL_SOURCE_LOCATION(table), VAR_DECL, get_identifier(name),
			  TREE_TYPE(table));
	SET_DECL_ASSEMBLER_NAME(copy, get_identifier(name));
	free(name);
	TREE_STATIC(copy) = 1;
	TREE_PUBLIC(copy) = 0;
	TREE_USED(copy) = 1;
	TREE_ADDRESSABLE(copy) = TREE_ADDRESSABLE(table);
	DECL_ARTIFICIAL(copy) = 1;
	DECL_IGNORED_P(copy) = 1;
	DECL_PRESERVE_P(copy) = 1;
	DECL_CONTEXT(copy) = NULL_TREE;
	SET_DECL_ALIGN(copy, MAX(DECL_ALIGN(table), 64));
	DECL_USER_ALIGN(copy) = 1;
	DECL_INITIAL(copy) = init;
	set_decl_section_name(copy, HP_GCC_PROXY_SECTION);
	varpool_node::finalize_decl(copy);
	varpool_node::get(copy)->force_output = 1;
	t->copy = hp_gcc_keep(copy);
	for (i = 0; i < entries.length(); i++) {
		char *sym = xasprintf("__hp_entry.%u." HOST_WIDE_INT_PRINT_DEC, t->number,
				      entries[i].first);
		struct hp_gcc_entry e = {hp_gcc_intern(hp_gcc_symbol_name(copy)),
					 hp_gcc_intern(sym),
					 hp_gcc_intern(hp_gcc_symbol_name(entries[i].second)),
					 (unsigned HOST_WIDE_INT)entries[i].first};

		hp_gcc_entries.safe_push(e);
		free(sym);
	}
	/* the original names old symbols: it must not reach the object */
	if (varpool_node *node = varpool_node::get(table))
		hp_gcc_drop_variable(node);
	else
		DECL_EXTERNAL(table) = 1;
	if (hp_gcc_opts.dump)
		fprintf(stderr, "hotpatch-gcc: patch: table %s -> %s (%u entries)\n",
			hp_gcc_symbol_name(table), hp_gcc_symbol_name(copy), entries.length());
	return copy;
}

/* Replace every compiler-made table in *tp by its copy. */
static tree hp_gcc_swap_tables(tree *tp, int *walk_subtrees, void *data)
{
	bool *changed = (bool *)data;
	struct hp_gcc_table *t;

	if (TYPE_P(*tp)) {
		*walk_subtrees = 0;
		return NULL_TREE;
	}
	if (TREE_CODE(*tp) == ADDR_EXPR) {
		bool inner = false;

		walk_tree(&TREE_OPERAND(*tp, 0), hp_gcc_swap_tables, &inner, NULL);
		if (inner) {
			recompute_tree_invariant_for_addr_expr(*tp);
			*changed = true;
		}
		*walk_subtrees = 0;
		return NULL_TREE;
	}
	if ((t = hp_gcc_table_of(*tp))) {
		*tp = hp_gcc_table_copy(t, *tp);
		*changed = true;
	}
	if (DECL_P(*tp))
		*walk_subtrees = 0;
	return NULL_TREE;
}

/* ---- the rewrite (continued) ------------------------------------------------ */

struct hp_gcc_rewrite {
	gimple_seq seq; /* statements to put before the use */
	bool changed;
};

/* p = __hp_proxy.NAME, appended to seq. */
static tree hp_gcc_load_slot(struct hp_gcc_rewrite *rw, tree target)
{
	tree slot = hp_gcc_slot(target);
	tree p = make_ssa_name(TREE_TYPE(slot));

	gimple_seq_add_stmt(&rw->seq, gimple_build_assign(p, slot));
	rw->changed = true;
	return p;
}

/* *p as a memory reference of target's type. */
static tree hp_gcc_deref(tree target, tree p)
{
	tree ref = build2(MEM_REF, TREE_TYPE(target), p,
			  build_int_cst(build_pointer_type(TREE_TYPE(target)), 0));

	TREE_THIS_VOLATILE(ref) = TREE_THIS_VOLATILE(target);
	TREE_SIDE_EFFECTS(ref) = TREE_SIDE_EFFECTS(target);
	return ref;
}

/* Rebase the reference *tp (components over a target decl, or a MEM_REF
 * of &target) on a load of the slot. Returns false if its base is no
 * target. */
static bool hp_gcc_rebase(struct hp_gcc_rewrite *rw, tree *tp)
{
	while (handled_component_p(*tp))
		tp = &TREE_OPERAND(*tp, 0);
	if ((TREE_CODE(*tp) == MEM_REF || TREE_CODE(*tp) == TARGET_MEM_REF) &&
	    TREE_CODE(TREE_OPERAND(*tp, 0)) == ADDR_EXPR) {
		tree base = TREE_OPERAND(TREE_OPERAND(*tp, 0), 0);

		if (!DECL_P(base) || !hp_gcc_target_kind(base))
			return false;
		TREE_OPERAND(*tp, 0) = hp_gcc_load_slot(rw, base);
		return true;
	}
	if (DECL_P(*tp) && hp_gcc_target_kind(*tp)) {
		*tp = hp_gcc_deref(*tp, hp_gcc_load_slot(rw, *tp));
		return true;
	}
	return false;
}

/* The value of the address t (an ADDR_EXPR of a target or of a part of
 * one) as an SSA name. */
static tree hp_gcc_address(struct hp_gcc_rewrite *rw, tree t)
{
	tree op = TREE_OPERAND(t, 0), val, q;

	if (DECL_P(op)) {
		val = hp_gcc_load_slot(rw, op);
	} else {
		op = unshare_expr(op);
		if (!hp_gcc_rebase(rw, &op))
			return NULL_TREE;
		val = make_ssa_name(TREE_TYPE(t));
		gimple_seq_add_stmt(&rw->seq,
				    gimple_build_assign(val, build1(ADDR_EXPR, TREE_TYPE(t), op)));
	}
	if (!useless_type_conversion_p(TREE_TYPE(t), TREE_TYPE(val))) {
		q = make_ssa_name(TREE_TYPE(t));
		gimple_seq_add_stmt(&rw->seq, gimple_build_assign(q, NOP_EXPR, val));
		val = q;
	}
	return val;
}

static tree hp_gcc_rewrite_tree(tree *tp, int *walk_subtrees, void *data)
{
	struct hp_gcc_rewrite *rw = (struct hp_gcc_rewrite *)data;
	tree t = *tp, base;

	if (TYPE_P(t) || TREE_CODE(t) == SSA_NAME || CONSTANT_CLASS_P(t)) {
		*walk_subtrees = 0;
		return NULL_TREE;
	}
	switch (TREE_CODE(t)) {
	case ADDR_EXPR:
		base = get_base_address(TREE_OPERAND(t, 0));
		if (base && DECL_P(base) && hp_gcc_target_kind(base)) {
			tree val = hp_gcc_address(rw, t);

			if (val)
				*tp = val;
			*walk_subtrees = 0;
		}
		return NULL_TREE;
	case MEM_REF:
	case TARGET_MEM_REF:
		if (TREE_CODE(TREE_OPERAND(t, 0)) == ADDR_EXPR) {
			base = TREE_OPERAND(TREE_OPERAND(t, 0), 0);
			if (DECL_P(base) && hp_gcc_target_kind(base))
				TREE_OPERAND(t, 0) = hp_gcc_load_slot(rw, base);
		}
		return NULL_TREE;
	case VAR_DECL:
		if (hp_gcc_target_kind(t))
			*tp = hp_gcc_deref(t, hp_gcc_load_slot(rw, t));
		*walk_subtrees = 0;
		return NULL_TREE;
	default:
		if (DECL_P(t))
			*walk_subtrees = 0;
		return NULL_TREE;
	}
}

/* Rewrite one operand in place; the loads it needs go to rw->seq. */
static void hp_gcc_rewrite_operand(struct hp_gcc_rewrite *rw, tree *op)
{
	if (!*op || !hp_gcc_rewrite_needed(op))
		return;
	*op = unshare_expr(*op);
	walk_tree(op, hp_gcc_swap_tables, &rw->changed, NULL);
	if (hp_gcc_target_in(op))
		walk_tree(op, hp_gcc_rewrite_tree, rw, NULL);
}

/* A noreturn callee stays noreturn when called through its slot: the CFG
 * already has no edge after the call. */
static void hp_gcc_keep_call_flags(gcall *call, tree fndecl)
{
	tree fntype = gimple_call_fntype(call);

	if (fntype && TREE_THIS_VOLATILE(fndecl) && !TYPE_VOLATILE(fntype))
		gimple_call_set_fntype(
			call,
			build_qualified_type(fntype, TYPE_QUALS(fntype) | TYPE_QUAL_VOLATILE));
}

static bool hp_gcc_rewrite_stmt(gimple_stmt_iterator *gsi)
{
	gimple *stmt = gsi_stmt(*gsi);
	struct hp_gcc_rewrite rw = {NULL, false};
	tree fndecl = NULL_TREE;
	unsigned i;

	if (is_gimple_debug(stmt)) {
		/* The debugger shows the value as optimised out rather than
		 * the object file naming an old symbol. */
		if (gimple_debug_bind_p(stmt) && gimple_debug_bind_has_value_p(stmt) &&
		    hp_gcc_rewrite_needed(gimple_debug_bind_get_value_ptr(stmt))) {
			gimple_debug_bind_reset_value(stmt);
			update_stmt(stmt);
		}
		return false;
	}
	if (gcall *call = dyn_cast<gcall *>(stmt))
		fndecl = gimple_call_fndecl(call);
	for (i = 0; i < gimple_num_ops(stmt); i++)
		hp_gcc_rewrite_operand(&rw, gimple_op_ptr(stmt, i));
	if (!rw.changed)
		return false;
	if (fndecl && hp_gcc_target_kind(fndecl))
		hp_gcc_keep_call_flags(as_a<gcall *>(stmt), fndecl);
	gsi_insert_seq_before(gsi, rw.seq, GSI_SAME_STMT);
	update_stmt(stmt);
	return true;
}

/* A PHI argument &target: the load goes on the incoming edge. */
static bool hp_gcc_rewrite_phi(gphi *phi)
{
	bool changed = false;
	unsigned i;

	for (i = 0; i < gimple_phi_num_args(phi); i++) {
		struct hp_gcc_rewrite rw = {NULL, false};
		tree arg = gimple_phi_arg_def(phi, i);
		edge e = gimple_phi_arg_edge(phi, i);

		if (TREE_CODE(arg) != ADDR_EXPR || !hp_gcc_rewrite_needed(&arg))
			continue;
		if (hp_gcc_target_in(&arg) == NULL_TREE) { /* only a table: its copy */
			bool swapped = false;

			arg = unshare_expr(arg);
			walk_tree(&arg, hp_gcc_swap_tables, &swapped, NULL);
			SET_PHI_ARG_DEF(phi, i, arg);
			changed = true;
			continue;
		}
		if (e->flags & EDGE_ABNORMAL) {
			hp_gcc_refuse("cannot load a proxy slot on an abnormal edge in ",
				      hp_gcc_symbol_name(current_function_decl), "");
			return false;
		}
		arg = hp_gcc_address(&rw, arg);
		if (!arg)
			continue;
		gsi_insert_seq_on_edge(e, rw.seq);
		SET_PHI_ARG_DEF(phi, i, arg);
		changed = true;
	}
	return changed;
}

unsigned int hp_gcc_patch_rewrite(function *fun)
{
	bool changed = false;
	basic_block bb;

	if (!hp_gcc_patch_mode)
		return 0;
	FOR_EACH_BB_FN(bb, fun)
	{
		for (gphi_iterator pi = gsi_start_phis(bb); !gsi_end_p(pi); gsi_next(&pi))
			if (!virtual_operand_p(gimple_phi_result(pi.phi())))
				changed |= hp_gcc_rewrite_phi(pi.phi());
		for (gimple_stmt_iterator gsi = gsi_start_bb(bb); !gsi_end_p(gsi); gsi_next(&gsi))
			changed |= hp_gcc_rewrite_stmt(&gsi);
	}
	if (!changed)
		return 0;
	gsi_commit_edge_inserts();
	cgraph_edge::rebuild_edges();
	mark_virtual_operands_for_renaming(fun);
	return TODO_update_ssa_only_virtuals;
}

/* ---- metadata -------------------------------------------------------------- */

void hp_gcc_patch_add_proxies(vec<struct hp_md_var_desc> *out)
{
	unsigned i;

	/* A symbol at each table entry, for the record's ".quad". */
	for (i = 0; i < hp_gcc_entries.length(); i++) {
		struct hp_gcc_entry *e = &hp_gcc_entries[i];
		struct hp_md_var_desc d;

		fprintf(asm_out_file, "\t.set %s, %s+" HOST_WIDE_INT_PRINT_UNSIGNED "\n", e->symbol,
			e->table, e->offset);
		memset(&d, 0, sizeof(d));
		d.name = e->target;
		d.asm_name = e->symbol;
		d.size = POINTER_SIZE_UNITS;
		d.flags = HP_MD_VAR_PROXY;
		d.source_name = e->target;
		out->safe_push(d);
	}
	for (i = 0; i < hp_gcc_proxies.length(); i++) {
		struct hp_gcc_proxy *p = &hp_gcc_proxies[i];
		struct hp_md_var_desc d;

		memset(&d, 0, sizeof(d));
		d.name = p->name;
		d.asm_name = hp_gcc_symbol_name(p->slot);
		d.size = POINTER_SIZE_UNITS;
		d.flags = HP_MD_VAR_PROXY;
		d.source_name = p->name;
		out->safe_push(d);
	}
}
