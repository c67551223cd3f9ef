/* What the plugin keeps from one callback to a later one, safe across
 * GCC's garbage collections (see "Garbage collection" in hp_gcc.h).
 *
 * Names are copied out of GC memory: an IDENTIFIER_POINTER string lives
 * only as long as its identifier, and once parsing is over the identifier
 * table no longer keeps identifiers alive. Trees are chained from one GC
 * root, so whatever GCC drops meanwhile, a kept tree is never collected
 * and its address never reused for another.
 */
#include "hp_gcc.h"

/* A TREE_LIST, newest first; its only purpose is to be marked. */
static tree hp_gcc_kept;

static const struct ggc_root_tab hp_gcc_roots[] = {
	{&hp_gcc_kept, 1, sizeof(hp_gcc_kept), gt_ggc_mx_tree_node, gt_pch_nx_tree_node},
	LAST_GGC_ROOT_TAB,
};

void hp_gcc_keep_setup(const char *plugin_name)
{
	register_callback(plugin_name, PLUGIN_REGISTER_GGC_ROOTS, NULL, (void *)hp_gcc_roots);
}

tree hp_gcc_keep(tree t)
{
	if (t)
		hp_gcc_kept = tree_cons(NULL_TREE, t, hp_gcc_kept);
	return t;
}

const char *hp_gcc_intern(const char *s)
{
	return xstrdup(s ? s : "");
}
