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

/* Keyed by decls the collector does not see from here: see "Trees outside
 * the collector's sight" in hp_gcc.h for what keeps them alive, and when
 * that does not hold. */
static hash_map<tree, struct hp_gcc_names *> *hp_gcc_early;

static struct hp_gcc_names *hp_gcc_early_set(tree decl)
{
	struct hp_gcc_names **slot;

	if (!hp_gcc_early)
		hp_gcc_early = new hash_map<tree, struct hp_gcc_names *>;
	slot = &hp_gcc_early->get_or_insert(decl);
	if (!*slot)
		*slot = XCNEW(struct hp_gcc_names);
	return *slot;
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
		hp_gcc_names_add(hp_gcc_early_set(node->inlined_to->decl),
				 hp_gcc_symbol_name(DECL_ORIGIN(node->decl)));
}

void hp_gcc_watch_inlining(void)
{
	static cgraph_node_hook_list *hook;

	if (!hook)
		hook = symtab->add_cgraph_removal_hook(hp_gcc_node_removed, NULL);
}

/* The recorded sets are by decl; the closure needs them by name. */
static struct hp_gcc_names *hp_gcc_early_by_name(const char *name)
{
	if (!hp_gcc_early)
		return NULL;
	for (auto it = hp_gcc_early->begin(); it != hp_gcc_early->end(); ++it)
		if (!strcmp(hp_gcc_symbol_name((*it).first), name))
			return (*it).second;
	return NULL;
}

void hp_gcc_close_inlined(struct hp_gcc_names *inlined, tree fndecl)
{
	struct hp_gcc_names **own = hp_gcc_early ? hp_gcc_early->get(fndecl) : NULL;
	const char *self = hp_gcc_symbol_name(fndecl);
	size_t i, j;

	if (own)
		for (i = 0; i < (*own)->n; i++)
			if (strcmp((*own)->v[i], self))
				hp_gcc_names_add(inlined, (*own)->v[i]);
	/* The list grows while it is walked: that is the transitive step. */
	for (i = 0; i < inlined->n; i++) {
		struct hp_gcc_names *more = hp_gcc_early_by_name(inlined->v[i]);

		for (j = 0; more && j < more->n; j++)
			if (strcmp(more->v[j], self))
				hp_gcc_names_add(inlined, more->v[j]);
	}
}
