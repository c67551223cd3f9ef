/* Unit tests of the exact machine-code comparison (kept relocations) on a
 * hand-made image: a function refers to the empty string "" and, beside
 * it, to a jump table whose entries (target - table) change whenever .text
 * moves. Moving .text is no change; a changed literal, a jump-table entry
 * reaching another place, or a call to another symbol is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <elf.h>

#include "machcode.h"

#define NENTRIES 4
#define TABLE_OFF 4 /* "" at .rodata+0, the table at +4 */

enum { SYM_NONE, SYM_TEXT, SYM_RODATA, SYM_CALLEE, SYM_OTHER, NRSYMS };

struct image {
	struct mp_sym syms[1], rsyms[NRSYMS];
	struct mp_elf_section secs[2];
	struct mp_reloc relocs[3 + NENTRIES];
	uint8_t text[64], rodata[32];
	struct mp_elf elf;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* f at .text: call callee; lea ""(%rip),%rdi; lea table(%rip),%rsi; ret.
 * The table's entry k reaches f + 4 + 4k. */
static void build(struct image *im, uint64_t text, int callee)
{
	const uint64_t ro = 0x2000;
	memset(im, 0, sizeof(*im));
	im->secs[0] =
		(struct mp_elf_section){".text", text, sizeof(im->text), im->text, true, false};
	im->secs[1] = (struct mp_elf_section){".rodata",  ro,	 sizeof(im->rodata),
					      im->rodata, false, false};
	im->syms[0] = (struct mp_sym){"f", "", text, 24, STT_FUNC, STB_GLOBAL, 1};
	im->rsyms[SYM_TEXT] = (struct mp_sym){"", "", text, 0, STT_SECTION, STB_LOCAL, 1};
	im->rsyms[SYM_RODATA] = (struct mp_sym){"", "", ro, 0, STT_SECTION, STB_LOCAL, 2};
	im->rsyms[SYM_CALLEE] = (struct mp_sym){"callee", "", 0, 0, STT_FUNC, STB_GLOBAL, 0};
	im->rsyms[SYM_OTHER] = (struct mp_sym){"other", "", 0, 0, STT_FUNC, STB_GLOBAL, 0};
	uint8_t *t = im->text;
	t[0] = 0xe8; /* call callee@PLT */
	im->relocs[0] =
		(struct mp_reloc){text + 1, -4, R_X86_64_PLT32, callee ? SYM_CALLEE : SYM_OTHER};
	t[5] = 0x48, t[6] = 0x8d, t[7] = 0x3d; /* lea .rodata+0(%rip),%rdi */
	put32(t + 8, (uint32_t)(ro - (text + 12)));
	im->relocs[1] = (struct mp_reloc){text + 8, -4, R_X86_64_PC32, SYM_RODATA};
	t[12] = 0x48, t[13] = 0x8d, t[14] = 0x35; /* lea .rodata+4(%rip),%rsi */
	put32(t + 15, (uint32_t)(ro + TABLE_OFF - (text + 19)));
	im->relocs[2] = (struct mp_reloc){text + 15, TABLE_OFF - 4, R_X86_64_PC32, SYM_RODATA};
	t[19] = 0xc3;
	for (int k = 0; k < NENTRIES; k++) {
		uint64_t at = ro + TABLE_OFF + 4 * (uint64_t)k, to = text + 4 + 4 * (uint64_t)k;
		put32(im->rodata + TABLE_OFF + 4 * k, (uint32_t)(to - (ro + TABLE_OFF)));
		im->relocs[3 + k] = (struct mp_reloc){at, (int64_t)(to - text) + 4 * k,
						      R_X86_64_PC32, SYM_TEXT};
	}
	im->elf.syms = im->syms;
	im->elf.nsyms = 1;
	im->elf.rsyms = im->rsyms;
	im->elf.nrsyms = NRSYMS;
	im->elf.secs = im->secs;
	im->elf.nsecs = 2;
	im->elf.relocs = im->relocs;
	im->elf.nrelocs = 3 + NENTRIES;
	im->elf.has_relocs = true;
	im->elf.type = ET_DYN;
}

static bool same(struct image *o, struct image *n)
{
	assert_int_equal(mp_mc_index(&o->elf), 0);
	assert_int_equal(mp_mc_index(&n->elf), 0);
	struct mp_mc_func fo = {&o->elf, o->secs[0].addr, 24, o->text};
	struct mp_mc_func fn = {&n->elf, n->secs[0].addr, 24, n->text};
	bool ok;
	bool r = mp_mc_same(&fo, &fn, &ok);
	assert_true(ok);
	free(o->elf.bounds);
	free(n->elf.bounds);
	o->elf.bounds = n->elf.bounds = NULL;
	return r;
}

static void moved_text_is_same(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 1);
	build(&n, 0x1340, 1);
	/* the table's bytes differ, and the "" is followed by them */
	assert_memory_not_equal(o.rodata + TABLE_OFF, n.rodata + TABLE_OFF, 4);
	assert_true(same(&o, &n));
}

static void changed_empty_string_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 1);
	build(&n, 0x1340, 1);
	n.rodata[0] = 'x'; /* "" -> "x": the NUL is in the padding */
	assert_false(same(&o, &n));
}

static void other_jump_target_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 1);
	build(&n, 0x1000, 1);
	/* entry 2 reaches f + 4 instead of f + 12 */
	put32(n.rodata + TABLE_OFF + 8, (uint32_t)(0x1000 + 4 - (0x2000 + TABLE_OFF)));
	n.relocs[3 + 2].addend = 4 + 8;
	assert_false(same(&o, &n));
}

static void other_callee_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 1);
	build(&n, 0x1000, 0); /* identical bytes, another symbol */
	assert_memory_equal(o.text, n.text, sizeof(o.text));
	assert_false(same(&o, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(moved_text_is_same),
		cmocka_unit_test(changed_empty_string_differs),
		cmocka_unit_test(other_jump_target_differs),
		cmocka_unit_test(other_callee_differs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
