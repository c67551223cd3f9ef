/* The inline graph: every function whose code is part of a body.
 *
 * Three sources, because each alone misses cases:
 *  - the BLOCK tree at the end (hp_gcc_body.cc): each inlined body leaves
 *    a block whose ultimate origin is the inlined FUNCTION_DECL, nested
 *    inlines included. But without -g GCC prunes blocks left with no
 *    statements and no variables, so "static int tiny(void) { return 42; }"
 *    folded into its caller leaves no trace there;
 *  - the call graph: an inline clone knows the function it was inlined
 *    into (inlined_to, the outermost one for nested inlines) until it is
 *    removed, after the early inliner or the IPA inliner copied its body.
 * A body then also contains whatever its inlined functions had inlined
 * early, so the sets are closed transitively at the end.
 */
#include "hp_gcc.h"

/* What was inlined into each function, keyed by the function's interned
 * symbol name: not by its decl, which the collector may free before the
 * function is compiled (a nested function inlined into its parent, see
 * "Garbage collection" in hp_gcc.h), and the closure looks sets up by the
 * names it collected anyway. */
static hash_map<nofree_string_hash, struct hp_gcc_names *> *hp_gcc_early;

/* The recorded set of the function of this name, or NULL. */
static struct hp_gcc_names *hp_gcc_early_by_name(const char *name)
{
	struct hp_gcc_names **set = hp_gcc_early ? hp_gcc_early->get(name) : NULL;

	return set ? *set : NULL;
}

static struct hp_gcc_names *hp_gcc_early_set(const char *name)
{
	struct hp_gcc_names *set = hp_gcc_early_by_name(name);

	if (set)
		return set;
	if (!hp_gcc_early)
		hp_gcc_early = new hash_map<nofree_string_hash, struct hp_gcc_names *>;
	set = XCNEW(struct hp_gcc_names);
	hp_gcc_early->put(hp_gcc_intern(name), set);
	return set;
}

void hp_gcc_collect_blocks(struct hp_gcc_names *out, tree fndecl, tree block)
{
	for (; block; block = BLOCK_CHAIN(block)) {
		tree origin = block_ultimate_origin(block);

		if (origin && TREE_CODE(origin) == FUNCTION_DECL && origin != fndecl &&
		    origin != DECL_ORIGIN(fndecl))
			hp_gcc_names_add(out, hp_gcc_symbol_name(origin));
		hp_gcc_collect_blocks(out, fndecl, BLOCK_SUBBLOCKS(block));
	}
}

/* Inline clones are removed once their body has been copied into the
 * function they were inlined into, by the early inliner and by IPA
 * inlining alike: the last moment their inlined_to is known. */
static void hp_gcc_node_removed(cgraph_node *node, void *data)
{
	if (node->inlined_to)
		hp_gcc_names_add(hp_gcc_early_set(hp_gcc_symbol_name(node->inlined_to->decl)),
				 hp_gcc_symbol_name(DECL_ORIGIN(node->decl)));
}

void hp_gcc_watch_inlining(void)
{
	static cgraph_node_hook_list *hook;

	if (!hook)
		hook = symtab->add_cgraph_removal_hook(hp_gcc_node_removed, NULL);
}

void hp_gcc_close_inlined(struct hp_gcc_names *inlined, tree fndecl)
{
	const char *self = hp_gcc_symbol_name(fndecl);
	struct hp_gcc_names *own = hp_gcc_early_by_name(self);
	size_t i, j;

	for (i = 0; own && i < own->n; i++)
		if (strcmp(own->v[i], self))
			hp_gcc_names_add(inlined, own->v[i]);
	/* The list grows while it is walked: that is the transitive step. */
	for (i = 0; i < inlined->n; i++) {
		struct hp_gcc_names *more = hp_gcc_early_by_name(inlined->v[i]);

		for (j = 0; more && j < more->n; j++)
			if (strcmp(more->v[j], self))
				hp_gcc_names_add(inlined, more->v[j]);
	}
}
