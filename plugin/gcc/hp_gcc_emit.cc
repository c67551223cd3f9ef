/* The .hotpatch record of the translation unit, written at
 * PLUGIN_FINISH_UNIT, when every function and variable of the TU has been
 * assembled, as top-level assembler text produced by the shared encoder
 * (format/metadata/hp_md_writer.h), so GCC and Clang records are the same
 * bytes for the same facts.
 */
#include "hp_gcc.h"

#include "hp_asm_scan.h"

#include "hp_md_writer.h"
#include "hp_metadata_format.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static vec<struct hp_gcc_func *> hp_gcc_funcs;

void hp_gcc_names_add(struct hp_gcc_names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = XRESIZEVEC(const char *, l->v, l->cap);
	}
	l->v[l->n++] = hp_gcc_intern(name);
}

const char *hp_gcc_symbol_name(tree decl)
{
	tree id = DECL_ASSEMBLER_NAME(decl);

	return targetm.strip_name_encoding(IDENTIFIER_POINTER(id));
}

struct hp_gcc_func *hp_gcc_new_func(tree decl)
{
	struct hp_gcc_func *f = XCNEW(struct hp_gcc_func);

	f->decl = hp_gcc_keep(decl);
	f->name = hp_gcc_intern(hp_gcc_symbol_name(decl));
	hp_gcc_funcs.safe_push(f);
	return f;
}

struct hp_gcc_func *hp_gcc_current_func(tree decl)
{
	unsigned i = hp_gcc_funcs.length();

	while (i-- > 0)
		if (hp_gcc_funcs[i]->decl == decl)
			return hp_gcc_funcs[i];
	return NULL;
}

/* Keep every TU-local variable the source defines, used or not: a patch
 * may start using one, and it must find the running image's copy (with its
 * state), not make a fresh one. Public ones are always kept anyway. */
void hp_gcc_pin_static_var(tree decl)
{
	if (!decl || TREE_CODE(decl) != VAR_DECL || !TREE_STATIC(decl) || DECL_EXTERNAL(decl) ||
	    TREE_PUBLIC(decl) || DECL_ARTIFICIAL(decl) || TREE_READONLY(decl))
		return;
	DECL_PRESERVE_P(decl) = 1;
	varpool_node::get_create(decl)->force_output = true;
}

/* ---- compile command --------------------------------------------------- */

/* Split COLLECT_GCC_OPTIONS: the driver writes every option single-quoted
 * and a quote inside one as '\''. */
static void hp_gcc_split_options(const char *s, vec<const char *> *out)
{
	char *buf = XNEWVEC(char, strlen(s) + 1);
	size_t n = 0;
	bool in_word = false, quoted = false;

	for (; *s; s++) {
		if (quoted) {
			if (*s == '\'')
				quoted = false;
			else
				buf[n++] = *s;
		} else if (*s == '\'') {
			quoted = in_word = true;
		} else if (*s == '\\' && s[1]) {
			buf[n++] = *++s;
			in_word = true;
		} else if (*s == ' ') {
			if (in_word) {
				buf[n] = 0;
				out->safe_push(hp_gcc_intern(buf));
			}
			n = 0;
			in_word = false;
		} else {
			buf[n++] = *s;
			in_word = true;
		}
	}
	if (in_word) {
		buf[n] = 0;
		out->safe_push(hp_gcc_intern(buf));
	}
	XDELETEVEC(buf);
}

/* cc1 never sees the driver's argv. The driver hands cc1 its options in
 * COLLECT_GCC_OPTIONS (without the input files) and its own path in
 * COLLECT_GCC, so the command is rebuilt as driver, options, source.
 * Run without a driver (cc1 directly), cc1's own options are recorded. */
static void hp_gcc_command(vec<const char *> *argv, const char **output)
{
	const char *driver = getenv("COLLECT_GCC");
	const char *opts = getenv("COLLECT_GCC_OPTIONS");
	bool compile_only = false;
	unsigned i;

	*output = "";
	if (driver && opts) {
		argv->safe_push(driver);
		hp_gcc_split_options(opts, argv);
	} else {
		argv->safe_push(progname);
		for (i = 1; i < save_decoded_options_count; i++)
			if (save_decoded_options[i].opt_index != OPT_SPECIAL_input_file)
				argv->safe_push(save_decoded_options[i].orig_option_with_args_text);
	}
	for (i = 1; i < argv->length(); i++) {
		if (!strcmp((*argv)[i], "-c"))
			compile_only = true;
		if (!strcmp((*argv)[i], "-o") && i + 1 < argv->length())
			*output = (*argv)[i + 1];
	}
	/* Without -c, -o names the linked program, not this object. */
	if (!compile_only)
		*output = "";
	argv->safe_push(main_input_filename);
}

/* ---- the record -------------------------------------------------------- */

static void hp_gcc_add_func_descs(vec<struct hp_md_func_desc> *out)
{
	unsigned i;

	for (i = 0; i < hp_gcc_funcs.length(); i++) {
		struct hp_gcc_func *f = hp_gcc_funcs[i];
		struct hp_md_func_desc d;

		if (!TREE_ASM_WRITTEN(f->decl))
			continue;
		if (!f->reason && hp_gcc_asm_caller_reason(f->name)) {
			f->reason = hp_gcc_asm_caller_reason(f->name);
			f->flags &= ~HP_MD_FUNC_PATCHABLE;
		}
		if (!(f->flags & HP_MD_FUNC_PATCHABLE) && !f->reason)
			f->reason = "no entry layout";
		memset(&d, 0, sizeof(d));
		d.name = f->name;
		d.asm_name = f->name;
		d.hash = f->hash;
		d.line_hash = f->line_hash;
		d.flags = f->flags;
		d.entry_offset = f->entry_offset;
		d.origin = f->origin;
		d.not_patchable_reason = f->reason;
		d.inlined = f->inlined.v;
		d.inlined_count = f->inlined.n;
		d.calls = f->calls.v;
		d.calls_count = f->calls.n;
		d.vars = f->vars.v;
		d.vars_count = f->vars.n;
		out->safe_push(d);
		if (f->cold_name) {
			/* foo.cold: a fragment of foo in .text.unlikely. It is
			 * never entered by a call; it goes with foo's body. */
			memset(&d, 0, sizeof(d));
			d.name = f->cold_name;
			d.asm_name = f->cold_name;
			d.hash = f->hash;
			d.flags = HP_MD_FUNC_CLONE | HP_MD_FUNC_FRAGMENT;
			d.origin = f->name;
			d.not_patchable_reason = "cold part of its origin";
			out->safe_push(d);
		}
	}
}

/* Names of the TU-local writable variables that no code writes
 * (HP_MD_VAR_NEVER_WRITTEN), found at the end of IPA while every function's
 * references are still in the symbol table (expansion drops them).
 * Interned names, not trees: nothing here needs the garbage collector. */
static struct hp_gcc_names hp_gcc_never_written;

static tree hp_gcc_find_address(tree *tp, int *walk_subtrees, void *data)
{
	(void)walk_subtrees;
	(void)data;
	return TREE_CODE(*tp) == ADDR_EXPR || TREE_CODE(*tp) == FDESC_EXPR ? *tp : NULL_TREE;
}

/* A reference that only reads: a load, or the address passed as the source
 * of memcpy/memmove (how `char page[] = "…"` is usually read). */
static bool hp_gcc_ref_only_reads(ipa_ref *ref, tree decl)
{
	if (ref->use == IPA_REF_LOAD)
		return true;
	if (ref->use != IPA_REF_ADDR || !ref->stmt || !is_gimple_call(ref->stmt))
		return false;
	gimple *call = ref->stmt;
	if (!gimple_call_builtin_p(call, BUILT_IN_MEMCPY) &&
	    !gimple_call_builtin_p(call, BUILT_IN_MEMMOVE))
		return false;
	for (unsigned i = 0; i < gimple_call_num_args(call); i++) {
		tree a = gimple_call_arg(call, i);
		bool is_decl =
			TREE_CODE(a) == ADDR_EXPR && get_base_address(TREE_OPERAND(a, 0)) == decl;
		if (is_decl != (i == 1))
			return false;
	}
	return true; /* its result, if used, is the destination */
}

/* Does any inline assembly of the unit name the variable? It may write
 * it where no reference shows. */
/* Every inline assembly text of the unit, top-level and in functions, while
 * the functions still have their GIMPLE bodies (the end of IPA). Taken
 * once: each variable is then looked for in this list. */
static void hp_gcc_collect_asm(vec<const char *> *texts)
{
	cgraph_node *fn;

	for (asm_node *a = symtab->first_asm_symbol(); a; a = a->next)
		texts->safe_push(TREE_STRING_POINTER(a->asm_str));
	FOR_EACH_FUNCTION_WITH_GIMPLE_BODY(fn)
	{
		function *fun = fn->get_fun();
		basic_block bb;

		if (!fun || !fun->cfg)
			continue;
		FOR_EACH_BB_FN(bb, fun)
		for (gimple_stmt_iterator gsi = gsi_start_bb(bb); !gsi_end_p(gsi); gsi_next(&gsi))
			if (gimple_code(gsi_stmt(gsi)) == GIMPLE_ASM)
				texts->safe_push(gimple_asm_string(as_a<gasm *>(gsi_stmt(gsi))));
	}
}

/* Does any inline assembly of the unit name the variable? It may write
 * it where no reference shows. */
static bool hp_gcc_asm_mentions(const vec<const char *> &texts, const char *name)
{
	for (unsigned i = 0; i < texts.length(); i++)
		if (hp_asm_mentions(texts[i], name))
			return true;
	return false;
}

static bool hp_gcc_is_never_written(varpool_node *node, const vec<const char *> &asm_texts)
{
	tree decl = node->decl;
	ipa_ref *ref;

	if (TREE_PUBLIC(decl) || TREE_READONLY(decl) || DECL_THREAD_LOCAL_P(decl) ||
	    TREE_THIS_VOLATILE(decl) || !node->definition || DECL_HARD_REGISTER(decl) ||
	    node->externally_visible)
		return false; /* (force_output is the plugin's own pin) */
	if (lookup_attribute("used", DECL_ATTRIBUTES(decl)))
		return false; /* kept for something the compiler does not see */
	if (DECL_INITIAL(decl) && DECL_INITIAL(decl) != error_mark_node &&
	    walk_tree(&DECL_INITIAL(decl), hp_gcc_find_address, NULL, NULL))
		return false;
	for (unsigned i = 0; node->iterate_referring(i, ref); i++)
		if (!is_a<cgraph_node *>(ref->referring) || !hp_gcc_ref_only_reads(ref, decl))
			return false;
	return !hp_gcc_asm_mentions(asm_texts, hp_gcc_symbol_name(decl));
}

/* PLUGIN_ALL_IPA_PASSES_END */
void hp_gcc_note_never_written(void *gcc_data, void *user_data)
{
	auto_vec<const char *> asm_texts;
	varpool_node *node;

	(void)gcc_data;
	(void)user_data;
	hp_gcc_collect_asm(&asm_texts);
	FOR_EACH_VARIABLE(node)
	if (hp_gcc_is_never_written(node, asm_texts))
		hp_gcc_names_add(&hp_gcc_never_written, hp_gcc_symbol_name(node->decl));
}

static bool hp_gcc_never_written_p(tree decl)
{
	const char *name = hp_gcc_symbol_name(decl);

	for (size_t i = 0; i < hp_gcc_never_written.n; i++)
		if (!strcmp(hp_gcc_never_written.v[i], name))
			return true;
	return false;
}

static uint32_t hp_gcc_var_flags(tree decl)
{
	uint32_t flags = 0;

	if (TREE_PUBLIC(decl))
		flags |= HP_MD_VAR_EXTERNAL;
	if (DECL_WEAK(decl))
		flags |= HP_MD_VAR_WEAK;
	if (DECL_THREAD_LOCAL_P(decl))
		flags |= HP_MD_VAR_TLS;
	if (TREE_READONLY(decl))
		flags |= HP_MD_VAR_CONST;
	else if (hp_gcc_never_written_p(decl))
		flags |= HP_MD_VAR_NEVER_WRITTEN;
	if (DECL_CONTEXT(decl) && TREE_CODE(DECL_CONTEXT(decl)) == FUNCTION_DECL)
		flags |= HP_MD_VAR_STATIC_LOCAL;
	return flags;
}

static void hp_gcc_add_var_descs(vec<struct hp_md_var_desc> *out)
{
	varpool_node *node;

	FOR_EACH_VARIABLE(node)
	{
		tree decl = node->decl;
		struct hp_md_var_desc d;
		bool defined = node->definition && TREE_ASM_WRITTEN(decl);

		if (DECL_ARTIFICIAL(decl) || DECL_HARD_REGISTER(decl))
			continue;
		if (hp_gcc_patch_is_target(decl))
			continue; /* in the old image: recorded as its proxy slot */
		if (!defined && !DECL_EXTERNAL(decl))
			continue; /* optimised away */
		memset(&d, 0, sizeof(d));
		d.name = hp_gcc_symbol_name(decl);
		d.asm_name = defined ? d.name : NULL;
		d.flags = hp_gcc_var_flags(decl);
		if (!defined)
			d.flags |= HP_MD_VAR_DECLARATION;
		if (DECL_SIZE_UNIT(decl) && tree_fits_uhwi_p(DECL_SIZE_UNIT(decl)))
			d.size = tree_to_uhwi(DECL_SIZE_UNIT(decl));
		if (defined)
			d.init_hash = hp_gcc_hash_initializer(decl);
		if (d.flags & HP_MD_VAR_STATIC_LOCAL)
			d.owner = hp_gcc_symbol_name(DECL_CONTEXT(decl));
		d.source_name = DECL_NAME(decl) ? IDENTIFIER_POINTER(DECL_NAME(decl)) : "";
		out->safe_push(d);
	}
}

static void hp_gcc_dump(const struct hp_md_func_desc *fd, size_t nf,
			const struct hp_md_var_desc *vd, size_t nv)
{
	size_t i, j;

	for (i = 0; i < nf; i++) {
		fprintf(stderr,
			"hotpatch-gcc: func %s hash=%016llx flags=%#x entry=%u origin=%s "
			"reason=%s\n",
			fd[i].name, (unsigned long long)fd[i].hash, fd[i].flags, fd[i].entry_offset,
			fd[i].origin ? fd[i].origin : "-",
			fd[i].not_patchable_reason ? fd[i].not_patchable_reason : "-");
		for (j = 0; j < fd[i].inlined_count; j++)
			fprintf(stderr, "hotpatch-gcc:   inlined %s\n", fd[i].inlined[j]);
		for (j = 0; j < fd[i].calls_count; j++)
			fprintf(stderr, "hotpatch-gcc:   calls %s\n", fd[i].calls[j]);
		for (j = 0; j < fd[i].vars_count; j++)
			fprintf(stderr, "hotpatch-gcc:   uses %s\n", fd[i].vars[j]);
	}
	for (i = 0; i < nv; i++)
		fprintf(stderr, "hotpatch-gcc: var %s size=%llu init=%016llx flags=%#x owner=%s\n",
			vd[i].name, (unsigned long long)vd[i].size,
			(unsigned long long)vd[i].init_hash, vd[i].flags,
			vd[i].owner ? vd[i].owner : "-");
}

void hp_gcc_emit_unit(void)
{
	auto_vec<const char *> argv;
	auto_vec<struct hp_md_func_desc> funcs;
	auto_vec<struct hp_md_var_desc> vars;
	struct hp_md_tu_desc tu;
	char *version = xasprintf("gcc %d.%d.%d", GCCPLUGIN_VERSION_MAJOR, GCCPLUGIN_VERSION_MINOR,
				  GCCPLUGIN_VERSION_PATCHLEVEL);
	char *text = NULL;
	int err;

	if (seen_error())
		goto out;
	memset(&tu, 0, sizeof(tu));
	hp_gcc_command(&argv, &tu.output);
	tu.compiler = HP_MD_COMPILER_GCC;
	tu.flags = (flag_pic ? HP_MD_TU_PIC : 0) | (flag_pie ? HP_MD_TU_PIE : 0) |
		   ((flag_cf_protection & CF_BRANCH) ? HP_MD_TU_CF_PROTECTION : 0);
	tu.source = main_input_filename;
	tu.cwd = getpwd();
	tu.argc = argv.length();
	tu.argv = argv.address();
	tu.compiler_version = version;
	tu.plugin_version = "hotpatch " HP_GCC_VERSION;

	hp_gcc_add_func_descs(&funcs);
	hp_gcc_add_var_descs(&vars);
	if (hp_gcc_patch_mode) {
		tu.flags |= HP_MD_TU_PATCH_MODE;
		hp_gcc_patch_add_proxies(&vars);
	}
	if (hp_gcc_opts.dump)
		hp_gcc_dump(funcs.address(), funcs.length(), vars.address(), vars.length());
	err = hp_md_asm_encode(&tu, funcs.address(), funcs.length(), vars.address(), vars.length(),
			       &text);
	if (err) {
		error("%s: cannot encode the %<.hotpatch%> record: %s", HP_GCC_PLUGIN_NAME,
		      xstrerror(-err));
		goto out;
	}
	fputs(text, asm_out_file);
	free(text);
out:
	free(version);
}
