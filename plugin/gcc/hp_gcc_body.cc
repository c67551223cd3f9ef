/* The GIMPLE pass after "optimized": what a function's final body is.
 *
 * The hash walks the optimised GIMPLE canonically: statement and tree
 * codes, types by shape, constants by value, global symbols by name,
 * string constants by content. Locals and SSA names are numbered in the
 * order the walk meets them and blocks by layout position, so neither
 * DECL_UIDs nor source locations reach the hash: moving lines, or editing
 * another function, leaves it unchanged; changing a constant this body
 * uses (its own, or one inlined or propagated into it) changes it.
 *
 * The inline graph comes from the function's BLOCK tree, completed by
 * what hp_gcc_inline.cc saw earlier (see there).
 */
#include "hp_gcc.h"

#include "hp_asm_scan.h"
#include "hp_hash.h"
#include "hp_metadata_format.h"

#include <string.h>

struct hp_gcc_walk {
	struct hp_hash h;
	hash_map<tree, unsigned> *locals; /* locals and SSA names -> number */
	unsigned next_local;
	int *bb_seq;	       /* bb->index -> layout position */
	struct hp_gcc_func *f; /* references go here; NULL for inits */
	struct hp_hash lines;  /* line numbers passed with __FILE__ */
	unsigned line_count;
	int made_depth; /* nesting of compiler-made constants being hashed */
};

static void hp_gcc_hash_tree(struct hp_gcc_walk *w, tree t);

static void hp_gcc_hash_type(struct hp_gcc_walk *w, tree type)
{
	if (!type) {
		hp_hash_u64(&w->h, 0);
		return;
	}
	hp_hash_u64(&w->h, TREE_CODE(type));
	hp_hash_u64(&w->h, TYPE_MODE(type));
	hp_hash_u64(&w->h, TYPE_UNSIGNED(type));
	if (INTEGRAL_TYPE_P(type) || SCALAR_FLOAT_TYPE_P(type))
		hp_hash_u64(&w->h, TYPE_PRECISION(type));
	if (TYPE_SIZE(type) && tree_fits_uhwi_p(TYPE_SIZE(type)))
		hp_hash_u64(&w->h, tree_to_uhwi(TYPE_SIZE(type)));
	if (TREE_CODE(type) == RECORD_TYPE || TREE_CODE(type) == UNION_TYPE) {
		tree n = TYPE_NAME(type);

		if (n && TREE_CODE(n) == TYPE_DECL)
			n = DECL_NAME(n);
		hp_hash_str(&w->h,
			    n && TREE_CODE(n) == IDENTIFIER_NODE ? IDENTIFIER_POINTER(n) : "");
	}
}

static unsigned hp_gcc_local_id(struct hp_gcc_walk *w, tree t)
{
	bool existed;
	unsigned &id = w->locals->get_or_insert(t, &existed);

	if (!existed)
		id = w->next_local++;
	return id;
}

static bool hp_gcc_is_static_local(tree decl)
{
	return TREE_CODE(decl) == VAR_DECL && TREE_STATIC(decl) && DECL_CONTEXT(decl) &&
	       TREE_CODE(DECL_CONTEXT(decl)) == FUNCTION_DECL;
}

/* How a global is named in the hash. Static locals are "owner/name", not
 * GCC's "name.N", whose N counts statics across the TU; clones are their
 * origin plus the kind of clone, not GCC's clone number. */
static void hp_gcc_hash_global(struct hp_gcc_walk *w, tree decl)
{
	if (hp_gcc_is_static_local(decl)) {
		hp_hash_str(&w->h, hp_gcc_symbol_name(DECL_CONTEXT(decl)));
		hp_hash_str(&w->h, DECL_NAME(decl) ? IDENTIFIER_POINTER(DECL_NAME(decl)) : "");
		return;
	}
	const char *name = hp_gcc_symbol_name(decl);
	const char *dot = TREE_CODE(decl) == FUNCTION_DECL ? strchr(name, '.') : NULL;

	if (dot) {
		/* foo.constprop.3 -> foo.constprop */
		size_t len = strlen(name);

		while (len > 0 && ISDIGIT(name[len - 1]))
			len--;
		if (len > 0 && name[len - 1] == '.')
			len--;
		hp_hash_bytes(&w->h, name, len);
		return;
	}
	hp_hash_str(&w->h, name);
}

/* A constant GCC made itself (an initialised local aggregate put in the
 * constant pool as .LC0, a CSWTCH switch table): its name is a number
 * that moves with unrelated code, its contents are part of the code that
 * reads it, and what it points at is referenced by that code. As Clang's
 * private constants (hp_llvm_hash.cpp). */
static bool hp_gcc_is_made_constant(tree decl)
{
	return DECL_ARTIFICIAL(decl) && TREE_STATIC(decl) && !TREE_PUBLIC(decl) &&
	       TREE_READONLY(decl) && DECL_INITIAL(decl) && DECL_INITIAL(decl) != error_mark_node;
}

static void hp_gcc_note_ref(struct hp_gcc_walk *w, tree decl)
{
	if (!w->f || decl == current_function_decl)
		return;
	if (TREE_CODE(decl) == FUNCTION_DECL)
		hp_gcc_names_add(&w->f->calls, hp_gcc_symbol_name(decl));
	else
		hp_gcc_names_add(&w->f->vars, hp_gcc_symbol_name(decl));
}

static void hp_gcc_hash_int_cst(struct hp_gcc_walk *w, tree t)
{
	int i;

	hp_hash_u64(&w->h, TREE_INT_CST_NUNITS(t));
	for (i = 0; i < TREE_INT_CST_NUNITS(t); i++)
		hp_hash_u64(&w->h, (uint64_t)TREE_INT_CST_ELT(t, i));
}

static void hp_gcc_hash_real_cst(struct hp_gcc_walk *w, tree t)
{
	long buf[4] = {0, 0, 0, 0};
	int i;

	if (TYPE_MODE(TREE_TYPE(t)) != BLKmode)
		real_to_target(buf, TREE_REAL_CST_PTR(t), TYPE_MODE(TREE_TYPE(t)));
	for (i = 0; i < 4; i++)
		hp_hash_u64(&w->h, (uint64_t)buf[i]);
}

static void hp_gcc_hash_decl(struct hp_gcc_walk *w, tree t)
{
	switch (TREE_CODE(t)) {
	case FUNCTION_DECL:
		hp_gcc_hash_global(w, t);
		hp_gcc_note_ref(w, t);
		return;
	case VAR_DECL:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		if (hp_gcc_is_made_constant(t) && w->made_depth < 8) {
			w->made_depth++;
			hp_hash_str(&w->h, "made-constant");
			hp_gcc_hash_tree(w, DECL_INITIAL(t));
			w->made_depth--;
		} else if (is_global_var(t)) {
			hp_gcc_hash_global(w, t);
			hp_gcc_note_ref(w, t);
		} else {
			hp_hash_u64(&w->h, hp_gcc_local_id(w, t));
		}
		return;
	case PARM_DECL: {
		unsigned n = 0;
		tree p;

		hp_gcc_hash_type(w, TREE_TYPE(t));
		for (p = DECL_ARGUMENTS(current_function_decl); p && p != t; p = DECL_CHAIN(p))
			n++;
		hp_hash_u64(&w->h, n);
		return;
	}
	case RESULT_DECL:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		return;
	case LABEL_DECL: {
		basic_block bb = cfun && cfun->cfg ? label_to_block(cfun, t) : NULL;

		hp_hash_u64(&w->h, bb && w->bb_seq ? (uint64_t)w->bb_seq[bb->index] : ~0ull);
		return;
	}
	case FIELD_DECL:
		hp_hash_str(&w->h, DECL_NAME(t) ? IDENTIFIER_POINTER(DECL_NAME(t)) : "");
		if (tree_fits_shwi_p(bit_position(t)))
			hp_hash_u64(&w->h, (uint64_t)int_bit_position(t));
		hp_gcc_hash_type(w, TREE_TYPE(t));
		return;
	case CONST_DECL:
		hp_gcc_hash_tree(w, DECL_INITIAL(t));
		return;
	default:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		return;
	}
}

static void hp_gcc_hash_constructor(struct hp_gcc_walk *w, tree t)
{
	unsigned HOST_WIDE_INT i;
	tree index, value;

	hp_gcc_hash_type(w, TREE_TYPE(t));
	hp_hash_u64(&w->h, CONSTRUCTOR_NELTS(t));
	FOR_EACH_CONSTRUCTOR_ELT(CONSTRUCTOR_ELTS(t), i, index, value)
	{
		hp_gcc_hash_tree(w, index);
		hp_gcc_hash_tree(w, value);
	}
}

static void hp_gcc_hash_tree(struct hp_gcc_walk *w, tree t)
{
	enum tree_code code;
	int i, n;

	if (!t) {
		hp_hash_u64(&w->h, 0);
		return;
	}
	code = TREE_CODE(t);
	hp_hash_u64(&w->h, code + 1);
	if (DECL_P(t)) {
		hp_gcc_hash_decl(w, t);
		return;
	}
	if (TYPE_P(t)) {
		hp_gcc_hash_type(w, t);
		return;
	}
	switch (code) {
	case INTEGER_CST:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		hp_gcc_hash_int_cst(w, t);
		return;
	case REAL_CST:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		hp_gcc_hash_real_cst(w, t);
		return;
	case STRING_CST:
		hp_hash_bytes(&w->h, TREE_STRING_POINTER(t), TREE_STRING_LENGTH(t));
		return;
	case COMPLEX_CST:
		hp_gcc_hash_tree(w, TREE_REALPART(t));
		hp_gcc_hash_tree(w, TREE_IMAGPART(t));
		return;
	case VECTOR_CST:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		n = vector_cst_encoded_nelts(t);
		for (i = 0; i < n; i++)
			hp_gcc_hash_tree(w, VECTOR_CST_ENCODED_ELT(t, i));
		return;
	case SSA_NAME:
		hp_gcc_hash_type(w, TREE_TYPE(t));
		hp_hash_u64(&w->h, hp_gcc_local_id(w, t));
		if (SSA_NAME_IS_DEFAULT_DEF(t) && SSA_NAME_VAR(t))
			hp_gcc_hash_tree(w, SSA_NAME_VAR(t));
		return;
	case CONSTRUCTOR:
		hp_gcc_hash_constructor(w, t);
		return;
	case TREE_LIST:
		for (; t; t = TREE_CHAIN(t)) {
			hp_gcc_hash_tree(w, TREE_PURPOSE(t));
			hp_gcc_hash_tree(w, TREE_VALUE(t));
		}
		hp_hash_u64(&w->h, 0);
		return;
	default:
		break;
	}
	if (!EXPR_P(t) && TREE_CODE_CLASS(code) != tcc_reference &&
	    TREE_CODE_CLASS(code) != tcc_comparison && TREE_CODE_CLASS(code) != tcc_unary &&
	    TREE_CODE_CLASS(code) != tcc_binary && TREE_CODE_CLASS(code) != tcc_expression &&
	    TREE_CODE_CLASS(code) != tcc_vl_exp)
		return;
	hp_gcc_hash_type(w, TREE_TYPE(t));
	hp_hash_u64(&w->h, TREE_THIS_VOLATILE(t));
	n = TREE_OPERAND_LENGTH(t);
	hp_hash_u64(&w->h, n);
	for (i = 0; i < n; i++)
		hp_gcc_hash_tree(w, TREE_OPERAND(t, i));
}

/* (name, reason) pairs; the strings are interned, nothing here points to
 * garbage-collected trees. */
static struct {
	const char **name, **reason;
	size_t n, cap;
} hp_gcc_asm_callees;

static void hp_gcc_note_asm_target(const char *name, size_t len, void *ctx)
{
	char *copy = xstrndup(name, len);
	char *why;

	if (hp_gcc_asm_caller_reason(copy)) {
		free(copy);
		return;
	}
	if (hp_gcc_asm_callees.n == hp_gcc_asm_callees.cap) {
		hp_gcc_asm_callees.cap = hp_gcc_asm_callees.cap * 2 + 8;
		hp_gcc_asm_callees.name =
			XRESIZEVEC(const char *, hp_gcc_asm_callees.name, hp_gcc_asm_callees.cap);
		hp_gcc_asm_callees.reason =
			XRESIZEVEC(const char *, hp_gcc_asm_callees.reason, hp_gcc_asm_callees.cap);
	}
	why = concat("called by name from inline assembly in ", (const char *)ctx,
		     ", which relies on its register use", NULL);
	hp_gcc_asm_callees.name[hp_gcc_asm_callees.n] = hp_gcc_intern(copy);
	hp_gcc_asm_callees.reason[hp_gcc_asm_callees.n] = hp_gcc_intern(why);
	hp_gcc_asm_callees.n++;
	free(copy);
	free(why);
}

void hp_gcc_note_asm_branches(const char *text, const char *where)
{
	hp_asm_branch_targets(text, hp_gcc_note_asm_target, (void *)where);
}

/* PLUGIN_ALL_IPA_PASSES_START: the top-level asm statements are still in the
 * symbol table (they are written out, and dropped, before the functions). */
void hp_gcc_note_toplevel_asm(void *gcc_data, void *user_data)
{
	for (asm_node *a = symtab->first_asm_symbol(); a; a = a->next)
		hp_gcc_note_asm_branches(TREE_STRING_POINTER(a->asm_str),
					 "a top-level asm statement");
}

const char *hp_gcc_asm_caller_reason(const char *name)
{
	for (size_t i = 0; i < hp_gcc_asm_callees.n; i++)
		if (!strcmp(hp_gcc_asm_callees.name[i], name))
			return hp_gcc_asm_callees.reason[i];
	return NULL;
}

/* Does this call pass the file name of its own location as a string
 * (__FILE__)? */
static bool hp_gcc_passes_file_name(gimple *stmt, const char *file)
{
	for (unsigned j = 0; j < gimple_call_num_args(stmt); j++) {
		tree a = gimple_call_arg(stmt, j);

		if (TREE_CODE(a) != ADDR_EXPR)
			continue;
		a = TREE_OPERAND(a, 0);
		if (TREE_CODE(a) == ARRAY_REF)
			a = TREE_OPERAND(a, 0);
		if (TREE_CODE(a) == STRING_CST && !strcmp(TREE_STRING_POINTER(a), file))
			return true;
	}
	return false;
}

/* __FILE__ and __LINE__ passed together (assert, a log macro): the line
 * is left out of the body hash and goes into the line hash, as in the
 * Clang plugin (hp_llvm_hash.cpp says why and what makes it safe).
 * Operand i of a call is argument i - 3. */
static bool hp_gcc_is_line_at(gimple *stmt, tree op, location_t loc)
{
	return loc != UNKNOWN_LOCATION && LOCATION_FILE(loc) && LOCATION_LINE(loc) &&
	       tree_to_uhwi(op) == (unsigned HOST_WIDE_INT)LOCATION_LINE(loc) &&
	       hp_gcc_passes_file_name(stmt, LOCATION_FILE(loc));
}

static bool hp_gcc_line_argument(struct hp_gcc_walk *w, gimple *stmt, unsigned i)
{
	tree op = gimple_op(stmt, i);

	if (!w->f || gimple_code(stmt) != GIMPLE_CALL || i < 3 || !op ||
	    TREE_CODE(op) != INTEGER_CST || !tree_fits_uhwi_p(op))
		return false;
	/* the call's own line, or the line of a call it was inlined from (a
	 * log helper inlined into its caller passes the caller's __LINE__) */
	bool found = hp_gcc_is_line_at(stmt, op, gimple_location(stmt));
	for (tree b = gimple_block(stmt); !found && b && TREE_CODE(b) == BLOCK;
	     b = BLOCK_SUPERCONTEXT(b))
		if (inlined_function_outer_scope_p(b))
			found = hp_gcc_is_line_at(stmt, op, BLOCK_SOURCE_LOCATION(b));
	if (!found)
		return false;
	if (!w->line_count++)
		hp_hash_init(&w->lines, 0x4c494e45 /* "LINE" */);
	hp_hash_u64(&w->lines, tree_to_uhwi(op));
	hp_hash_u64(&w->h, 0x4c4e /* a line number */);
	hp_hash_u64(&w->h, TYPE_PRECISION(TREE_TYPE(op)));
	return true;
}

static void hp_gcc_hash_stmt(struct hp_gcc_walk *w, gimple *stmt)
{
	unsigned i, n = gimple_num_ops(stmt);

	hp_hash_u64(&w->h, gimple_code(stmt));
	switch (gimple_code(stmt)) {
	case GIMPLE_ASSIGN:
		hp_hash_u64(&w->h, gimple_assign_rhs_code(stmt));
		break;
	case GIMPLE_COND:
		hp_hash_u64(&w->h, gimple_cond_code(stmt));
		break;
	case GIMPLE_CALL:
		if (gimple_call_internal_p(stmt))
			hp_hash_u64(&w->h, gimple_call_internal_fn(stmt) + 1);
		break;
	case GIMPLE_ASM: {
		gasm *a = as_a<gasm *>(stmt);

		hp_hash_str(&w->h, gimple_asm_string(a));
		hp_hash_u64(&w->h, gimple_asm_volatile_p(a));
		if (w->f) {
			char *where = concat(w->f->name, "()", NULL);
			hp_gcc_note_asm_branches(gimple_asm_string(a), hp_gcc_intern(where));
			free(where);
		}
		break;
	}
	default:
		break;
	}
	hp_hash_u64(&w->h, n);
	for (i = 0; i < n; i++)
		if (!hp_gcc_line_argument(w, stmt, i))
			hp_gcc_hash_tree(w, gimple_op(stmt, i));
}

static void hp_gcc_hash_phi(struct hp_gcc_walk *w, gphi *phi)
{
	unsigned i;

	hp_hash_u64(&w->h, GIMPLE_PHI);
	hp_gcc_hash_tree(w, gimple_phi_result(phi));
	for (i = 0; i < gimple_phi_num_args(phi); i++) {
		hp_hash_u64(&w->h, w->bb_seq[gimple_phi_arg_edge(phi, i)->src->index]);
		hp_gcc_hash_tree(w, gimple_phi_arg_def(phi, i));
	}
}

static void hp_gcc_hash_bb(struct hp_gcc_walk *w, basic_block bb)
{
	const int edge_bits = EDGE_TRUE_VALUE | EDGE_FALSE_VALUE | EDGE_ABNORMAL | EDGE_EH;
	gimple_stmt_iterator gsi;
	edge_iterator ei;
	edge e;

	hp_hash_u64(&w->h, 0xbb);
	for (gphi_iterator pi = gsi_start_phis(bb); !gsi_end_p(pi); gsi_next(&pi))
		if (!virtual_operand_p(gimple_phi_result(pi.phi())))
			hp_gcc_hash_phi(w, pi.phi());
	for (gsi = gsi_start_bb(bb); !gsi_end_p(gsi); gsi_next(&gsi)) {
		gimple *stmt = gsi_stmt(gsi);

		if (is_gimple_debug(stmt) || gimple_code(stmt) == GIMPLE_NOP ||
		    gimple_code(stmt) == GIMPLE_PREDICT)
			continue;
		hp_gcc_hash_stmt(w, stmt);
	}
	hp_hash_u64(&w->h, EDGE_COUNT(bb->succs));
	FOR_EACH_EDGE(e, ei, bb->succs)
	{
		hp_hash_u64(&w->h,
			    e->dest->index >= NUM_FIXED_BLOCKS ? w->bb_seq[e->dest->index] : ~0ull);
		hp_hash_u64(&w->h, e->flags & edge_bits);
	}
}

static uint64_t hp_gcc_hash_function(function *fun, struct hp_gcc_func *f)
{
	struct hp_gcc_walk w;
	hash_map<tree, unsigned> locals;
	basic_block bb;
	int seq = 0;
	tree p;

	memset(&w, 0, sizeof(w));
	hp_hash_init(&w.h, 0x46554e43 /* "FUNC" */);
	w.locals = &locals;
	w.f = f;
	w.bb_seq = XCNEWVEC(int, last_basic_block_for_fn(fun));
	FOR_EACH_BB_FN(bb, fun)
	w.bb_seq[bb->index] = seq++;

	/* The signature as the function was declared. */
	hp_gcc_hash_type(&w, TREE_TYPE(TREE_TYPE(fun->decl)));
	for (p = DECL_ARGUMENTS(fun->decl); p; p = DECL_CHAIN(p))
		hp_gcc_hash_type(&w, TREE_TYPE(p));
	hp_hash_u64(&w.h, stdarg_p(TREE_TYPE(fun->decl)));

	FOR_EACH_BB_FN(bb, fun)
	hp_gcc_hash_bb(&w, bb);
	XDELETEVEC(w.bb_seq);
	if (w.line_count) {
		uint64_t v = hp_hash_final(&w.lines);
		f->line_hash = (uint32_t)(v ^ (v >> 32)) | 1;
	}
	return hp_hash_final(&w.h);
}

uint64_t hp_gcc_hash_initializer(tree decl)
{
	struct hp_gcc_walk w;
	hash_map<tree, unsigned> locals;
	tree init = DECL_INITIAL(decl);

	if (!init || init == error_mark_node || initializer_zerop(init))
		return 0;
	memset(&w, 0, sizeof(w));
	hp_hash_init(&w.h, 0x494e4954 /* "INIT" */);
	w.locals = &locals;
	hp_gcc_hash_tree(&w, init);
	return hp_hash_final(&w.h);
}

/* A compiler-made copy of a source function: ipa-cp, IPA-SRA, split
 * parts, OpenMP outlining. Its origin is the function it was made from. */
static tree hp_gcc_clone_origin(tree decl)
{
	cgraph_node *node = cgraph_node::get(decl);
	tree origin = DECL_ABSTRACT_ORIGIN(decl);

	if (node && node->former_clone_of && node->former_clone_of != decl)
		return node->former_clone_of;
	if (origin && TREE_CODE(origin) == FUNCTION_DECL && origin != decl)
		return origin;
	return NULL_TREE;
}

static void hp_gcc_describe_function(function *fun, struct hp_gcc_func *f)
{
	cgraph_node *node = cgraph_node::get(fun->decl);
	tree origin = hp_gcc_clone_origin(fun->decl);

	if (TREE_PUBLIC(fun->decl))
		f->flags |= HP_MD_FUNC_EXTERNAL;
	if (DECL_WEAK(fun->decl))
		f->flags |= HP_MD_FUNC_WEAK;
	if (stdarg_p(TREE_TYPE(fun->decl)))
		f->flags |= HP_MD_FUNC_VARIADIC;
	/* Its address is taken in this TU, as the Clang plugin records it.
	 * Another TU that takes the address lists the function among its own
	 * references, so mkpatch sees every taker across the program.
	 * (TREE_ADDRESSABLE is no help: the C front end sets it on every
	 * called function.) */
	if (!node || node->address_taken)
		f->flags |= HP_MD_FUNC_ADDRESS_TAKEN;
	if (origin) {
		f->flags |= HP_MD_FUNC_CLONE;
		f->origin = hp_gcc_intern(hp_gcc_symbol_name(origin));
	}
	hp_gcc_collect_blocks(&f->inlined, fun->decl, DECL_INITIAL(fun->decl));
	hp_gcc_close_inlined(&f->inlined, fun->decl);
	f->hash = hp_gcc_hash_function(fun, f);
}

namespace
{

const pass_data hp_gcc_body_pass_data = {
	GIMPLE_PASS, "hotpatch_body", OPTGROUP_NONE, TV_NONE, PROP_cfg, 0, 0, 0, 0,
};

class hp_gcc_body_pass : public gimple_opt_pass
{
      public:
	hp_gcc_body_pass(gcc::context *ctxt) : gimple_opt_pass(hp_gcc_body_pass_data, ctxt)
	{
	}
	unsigned int execute(function *fun) final override
	{
		hp_gcc_describe_function(fun, hp_gcc_new_func(fun->decl));
		/* patch mode: uses of old symbols through slots, once the
		 * body has been hashed as NEW's */
		return hp_gcc_patch_rewrite(fun);
	}
};

} // namespace

opt_pass *hp_gcc_make_body_pass(gcc::context *ctxt)
{
	return new hp_gcc_body_pass(ctxt);
}
