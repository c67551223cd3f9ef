/* hotpatch-gcc.so: GCC 12 plugin, base mode.
 *
 * plugin_init only checks what it was given and registers the pieces:
 * the optimisation flags that break function-level replacement are turned
 * off, a GIMPLE pass hashes each function after optimisation, an RTL pass
 * lays out its entry, and PLUGIN_FINISH_UNIT writes the .hotpatch record.
 * Every refusal is a compiler error naming the plugin, never an ICE.
 */
#include "hp_gcc.h"

#include <string.h>

__attribute__((visibility("default"))) int plugin_is_GPL_compatible;

struct hp_gcc_options hp_gcc_opts;

static struct plugin_info hp_gcc_info = {
	"0.1.0",
	"hotpatch base mode: padded atomic entries and .hotpatch metadata.\n"
	"GCC 12 cuts -fplugin-arg-NAME-KEY at the first '-', so no key reaches a\n"
	"plugin named hotpatch-gcc; HOTPATCH_GCC_DUMP=1 prints each record to stderr.",
};

/* Keys this plugin accepts; anything else is an error, so a typo is never
 * silently a different build. GCC 12 takes the plugin name in
 * -fplugin-arg-NAME-KEY up to the first '-', so under its installed name
 * hotpatch-gcc.so the plugin is never handed a key at all: GCC itself
 * rejects -fplugin-arg-hotpatch-gcc-* ("plugin hotpatch should be specified
 * before ..."). The check stays for a copy loaded under another name. */
static const struct {
	const char *key;
	bool takes_value;
	bool *flag;
} hp_gcc_keys[] = {
	{"dump", false, &hp_gcc_opts.dump},
};

static bool hp_gcc_parse_args(const struct plugin_name_args *info)
{
	bool ok = true;
	int i;

	for (i = 0; i < info->argc; i++) {
		const struct plugin_argument *a = &info->argv[i];
		size_t k;

		for (k = 0; k < ARRAY_SIZE(hp_gcc_keys); k++)
			if (!strcmp(a->key, hp_gcc_keys[k].key))
				break;
		if (k == ARRAY_SIZE(hp_gcc_keys)) {
			error("%s: unknown option %<-fplugin-arg-%s-%s%>", HP_GCC_PLUGIN_NAME,
			      info->base_name, a->key);
			ok = false;
			continue;
		}
		if (a->value && !hp_gcc_keys[k].takes_value) {
			error("%s: option %<-fplugin-arg-%s-%s%> takes no value",
			      HP_GCC_PLUGIN_NAME, info->base_name, a->key);
			ok = false;
			continue;
		}
		*hp_gcc_keys[k].flag = true;
	}
	return ok;
}

/* The target's ABI is settled only after plugin_init (the x86 back end
 * derives LP64 vs x32 in its option override), so it is checked when the
 * unit starts. */
static void hp_gcc_start_unit(void *gcc_data, void *user_data)
{
	hp_gcc_watch_inlining();
	if (!TARGET_64BIT || !TARGET_LP64)
		error("%s: only x86-64 (LP64) code is supported, not %<-m32%> or %<-mx32%>",
		      HP_GCC_PLUGIN_NAME);
}

/* Options the plugin cannot honour, refused up front. */
static bool hp_gcc_check_options(void)
{
	if (flag_lto || in_lto_p) {
		error("%s: %<-flto%> is not supported: the plugin must see the final code "
		      "of each translation unit",
		      HP_GCC_PLUGIN_NAME);
		return false;
	}
	if (global_options_set.x_flag_patchable_function_entry) {
		error("%s: %<-fpatchable-function-entry%> conflicts with the padding the "
		      "plugin lays out",
		      HP_GCC_PLUGIN_NAME);
		return false;
	}
	return true;
}

/* Interprocedural optimisations that let one function's code depend on
 * another's body. After a patch replaces that other body the assumption is
 * silently false, so base mode turns them off; these are the flags that
 * -flive-patching=inline-clone turns off, plus ipa-cp and IPA-SRA, which
 * change a function's signature or specialise it for its callers. Inlining
 * stays on: it is tracked in the metadata instead. */
static void hp_gcc_disable_ipa(void)
{
	flag_ipa_ra = 0;  /* callers rely on callee's clobbers */
	flag_ipa_icf = 0; /* identical bodies folded into one */
	flag_ipa_icf_functions = 0;
	flag_ipa_icf_variables = 0;
	flag_ipa_pta = 0;		    /* points-to across functions */
	flag_ipa_reference = 0;		    /* "callee does not touch global X" */
	flag_ipa_reference_addressable = 0; /* never-written statics made const */
	flag_ipa_pure_const = 0;	    /* pure/const/noreturn/nothrow discovery */
	flag_ipa_modref = 0;		    /* callee side-effect summaries */
	flag_ipa_bit_cp = 0;		    /* known bits of arguments */
	flag_ipa_vrp = 0;		    /* value ranges of arguments */
	flag_ipa_stack_alignment = 0;	    /* callee's stack alignment assumed */
	flag_ipa_cp = 0;		    /* constants of callers in callee */
	flag_ipa_cp_clone = 0;		    /* .constprop clones */
	flag_ipa_sra = 0;		    /* .isra clones with changed signature */
	flag_whole_program = 0;
}

static void hp_gcc_finish_decl(void *gcc_data, void *user_data)
{
	hp_gcc_pin_static_var((tree)gcc_data);
}

static void hp_gcc_finish_unit(void *gcc_data, void *user_data)
{
	hp_gcc_emit_unit();
}

static void hp_gcc_register_pass(const struct plugin_name_args *info, opt_pass *pass,
				 const char *ref, enum pass_positioning_ops pos)
{
	struct register_pass_info rp;

	rp.pass = pass;
	rp.reference_pass_name = ref;
	rp.ref_pass_instance_number = 1;
	rp.pos_op = pos;
	register_callback(info->base_name, PLUGIN_PASS_MANAGER_SETUP, NULL, &rp);
}

__attribute__((visibility("default"))) int plugin_init(struct plugin_name_args *info,
						       struct plugin_gcc_version *version)
{
	if (!plugin_default_version_check(version, &gcc_version)) {
		error("%s: built for GCC %s (%s), this compiler is GCC %s (%s)", HP_GCC_PLUGIN_NAME,
		      gcc_version.basever, gcc_version.datestamp, version->basever,
		      version->datestamp);
		return 1;
	}
	if (!hp_gcc_parse_args(info) || !hp_gcc_check_options() || !hp_gcc_patch_load())
		return 1;
	if (getenv("HOTPATCH_GCC_DUMP") && strcmp(getenv("HOTPATCH_GCC_DUMP"), "0"))
		hp_gcc_opts.dump = true;

	hp_gcc_disable_ipa();
	hp_gcc_entry_setup();
	hp_gcc_keep_setup(info->base_name);

	register_callback(info->base_name, PLUGIN_INFO, NULL, &hp_gcc_info);
	hp_gcc_register_pass(info, hp_gcc_make_body_pass(g), "optimized", PASS_POS_INSERT_AFTER);
	hp_gcc_register_pass(info, hp_gcc_make_entry_pass(g), "shorten", PASS_POS_INSERT_BEFORE);
	register_callback(info->base_name, PLUGIN_START_UNIT, hp_gcc_start_unit, NULL);
	register_callback(info->base_name, PLUGIN_FINISH_DECL, hp_gcc_finish_decl, NULL);
	register_callback(info->base_name, PLUGIN_FINISH_UNIT, hp_gcc_finish_unit, NULL);
	register_callback(info->base_name, PLUGIN_ALL_IPA_PASSES_START, hp_gcc_note_toplevel_asm,
			  NULL);
	register_callback(info->base_name, PLUGIN_ALL_IPA_PASSES_END, hp_gcc_note_never_written,
			  NULL);
	if (hp_gcc_patch_mode)
		register_callback(info->base_name, PLUGIN_ALL_IPA_PASSES_END, hp_gcc_patch_ipa_end,
				  NULL);
	return 0;
}
