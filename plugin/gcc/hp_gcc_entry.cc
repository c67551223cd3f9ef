/* Padding before and a 2-byte NOP at every function entry.
 *
 * Layout (docs/plugin-gcc.md): the function starts 16-aligned, then
 *
 *   entry-5 .. entry-1   5 x 90          padding (the jump to the patch)
 *   entry                [endbr64]       only with -fcf-protection=branch
 *   entry(+4)            66 90           the 2 patchable bytes
 *
 * Padding and entry, at 5 mod 16, share the function's first aligned
 * quadword (with endbr64 the entry is in the next one), so each is changed
 * by one aligned 8-byte store; 3 bytes fewer than an 8-byte prefix ending at
 * an aligned entry.
 *
 * The prefix is GCC's own -fpatchable-function-entry=5,5 (set as if given
 * on the command line), so GCC places the NOPs between the alignment and
 * the label itself. GCC would put its entry NOPs as two 1-byte 90s; instead
 * the RTL pass below inserts one 2-byte NOP (an asm insn), so no thread can
 * ever stop between two halves of the patched instruction. The pass runs
 * after GCC's endbr pass and before "shorten", so the NOP follows endbr64
 * and is counted in instruction lengths. It goes in front of the first
 * label, so loops that begin at the top of the function branch to the
 * instruction after it: nothing inside the function jumps back to the
 * patchable bytes.
 */
#include "hp_gcc.h"

#include "hp_metadata_format.h"

#define HP_GCC_PAD_BYTES 5
#define HP_GCC_FUNC_ALIGN_BITS 128

static void (*hp_gcc_orig_print_pfe)(FILE *, unsigned HOST_WIDE_INT, bool);

/* GCC records every patch area in __patchable_function_entries, a
 * writable allocated section with one relocation per function. Nothing
 * here needs that table (the metadata has the addresses), so it is not
 * written unless the source itself asked for patchable_function_entry. */
static void hp_gcc_print_pfe(FILE *file, unsigned HOST_WIDE_INT count, bool record_p)
{
	if (current_function_decl &&
	    !lookup_attribute("patchable_function_entry", DECL_ATTRIBUTES(current_function_decl)))
		record_p = false;
	hp_gcc_orig_print_pfe(file, count, record_p);
}

void hp_gcc_entry_setup(void)
{
	flag_patchable_function_entry = "5,5";
	hp_gcc_orig_print_pfe = targetm.asm_out.print_patchable_function_entry;
	targetm.asm_out.print_patchable_function_entry = hp_gcc_print_pfe;
}

static bool hp_gcc_is_endbr(rtx_insn *insn)
{
	return NONJUMP_INSN_P(insn) && recog_memoized(insn) == CODE_FOR_nop_endbr;
}

/* Why this function cannot get the layout, or NULL if it can. */
static const char *hp_gcc_unpatchable_reason(function *fun)
{
	if (lookup_attribute("naked", DECL_ATTRIBUTES(fun->decl)))
		return "naked";
	if (crtl->profile && flag_fentry)
		return "-pg -mfentry owns the entry";
	if (crtl->patch_area_entry != HP_GCC_PAD_BYTES || crtl->patch_area_size != HP_GCC_PAD_BYTES)
		return "patchable_function_entry attribute overrides the padding";
	return NULL;
}

static void hp_gcc_insert_entry_nop(function *fun, struct hp_gcc_func *f)
{
	rtx_insn *insn;
	rtx nop;

	for (insn = get_insns(); insn; insn = NEXT_INSN(insn))
		if (INSN_P(insn) || LABEL_P(insn))
			break;
	/* Basic asm, so the assembler emits exactly these bytes: 66 90 is
	 * "xchg %ax,%ax", the 2-byte NOP. final dereferences the asm's file
	 * name, so it needs a real location (it only becomes a comment). */
	nop = gen_rtx_ASM_INPUT_loc(VOIDmode, ".byte 0x66, 0x90 /* hotpatch entry */",
				    DECL_SOURCE_LOCATION(fun->decl));
	MEM_VOLATILE_P(nop) = 1;
	if (insn && hp_gcc_is_endbr(insn)) {
		emit_insn_after(nop, insn);
		f->flags |= HP_MD_FUNC_ENDBR;
		f->entry_offset = 4;
	} else if (insn) {
		emit_insn_before(nop, insn);
	} else {
		emit_insn(nop);
	}
	f->flags |= HP_MD_FUNC_PATCHABLE;
}

static unsigned int hp_gcc_entry_execute(function *fun)
{
	struct hp_gcc_func *f = hp_gcc_current_func(fun->decl);

	if (!f)
		f = hp_gcc_new_func(fun->decl);
	f->reason = hp_gcc_unpatchable_reason(fun);
	if (f->reason)
		return 0;
	/* A 16-byte start puts the 5-byte prefix and the entry on one aligned
	 * quadword, whatever -falign-functions or -Os says. */
	if (DECL_ALIGN(fun->decl) < HP_GCC_FUNC_ALIGN_BITS)
		SET_DECL_ALIGN(fun->decl, HP_GCC_FUNC_ALIGN_BITS);
	hp_gcc_insert_entry_nop(fun, f);
	if (crtl->has_bb_partition) {
		char *cold = concat(f->name, ".cold", NULL);

		f->cold_name = hp_gcc_intern(cold);
		free(cold);
	}
	return 0;
}

namespace
{

const pass_data hp_gcc_entry_pass_data = {
	RTL_PASS, "hotpatch_entry", OPTGROUP_NONE, TV_NONE, 0, 0, 0, 0, 0,
};

class hp_gcc_entry_pass : public rtl_opt_pass
{
      public:
	hp_gcc_entry_pass(gcc::context *ctxt) : rtl_opt_pass(hp_gcc_entry_pass_data, ctxt)
	{
	}
	unsigned int execute(function *fun) final override
	{
		return hp_gcc_entry_execute(fun);
	}
};

} // namespace

opt_pass *hp_gcc_make_entry_pass(gcc::context *ctxt)
{
	return new hp_gcc_entry_pass(ctxt);
}
