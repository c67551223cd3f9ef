/* Unit tests of the machine-code comparison on hand-made code and symbol
 * tables: moved call targets, RIP-relative data, GOT slots and PLT entries
 * are explained away, anything else is a change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <elf.h>

#include "machcode.h"

/* A tiny image: .text at text_addr, .rodata at ro_addr holding a string
 * at ro_str_off, .data holding a named variable "counter". */
struct image {
	struct mp_sym syms[4];
	struct mp_elf_section secs[3];
	uint8_t text[64], rodata[64], data[16];
	struct mp_elf elf;
};

static void image_init(struct image *im, uint64_t text_addr, uint64_t callee_off, uint64_t ro_addr,
		       uint64_t ro_str_off, uint64_t data_addr)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->rodata + ro_str_off, "hello", 6);
	im->secs[0] = (struct mp_elf_section){".text",	text_addr, sizeof(im->text),
					      im->text, true,	   false};
	im->secs[1] = (struct mp_elf_section){".rodata",  ro_addr, sizeof(im->rodata),
					      im->rodata, false,   false};
	im->secs[2] = (struct mp_elf_section){".data",	data_addr, sizeof(im->data),
					      im->data, false,	   true};
	/* sorted by value, as mp_elf_open leaves them */
	im->syms[0] = (struct mp_sym){"f", "", text_addr, 16, STT_FUNC, STB_GLOBAL, 1};
	im->syms[1] =
		(struct mp_sym){"callee", "a.c", text_addr + callee_off, 8, STT_FUNC, STB_LOCAL, 1};
	im->syms[2] = (struct mp_sym){"counter", "", data_addr + 4, 4, STT_OBJECT, STB_GLOBAL, 3};
	im->elf.syms = im->syms;
	im->elf.nsyms = 3;
	im->elf.secs = im->secs;
	im->elf.nsecs = 3;
	im->elf.type = ET_DYN;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* f: call callee; lea str(%rip),%rdi; addl $1, counter(%rip); ret */
static void emit_f(struct image *im, uint64_t target_callee, uint64_t target_str,
		   uint64_t target_counter)
{
	uint8_t *t = im->text;
	uint64_t a = im->secs[0].addr;
	t[0] = 0xe8; /* call rel32: end at 5 */
	put32(t + 1, (uint32_t)(target_callee - (a + 5)));
	t[5] = 0x48, t[6] = 0x8d, t[7] = 0x3d; /* lea disp32(%rip),%rdi: end at 12 */
	put32(t + 8, (uint32_t)(target_str - (a + 12)));
	t[12] = 0x83, t[13] = 0x05; /* addl $imm8, disp32(%rip): disp ends at 18, insn at 19 */
	put32(t + 14, (uint32_t)(target_counter - (a + 19)));
	t[18] = 1;
	t[19] = 0xc3;
}

static struct mp_mc_func func_of(struct image *im)
{
	return (struct mp_mc_func){&im->elf, im->secs[0].addr, 20, im->text};
}

static bool same(struct image *o, struct image *n)
{
	struct mp_mc_func fo = func_of(o), fn = func_of(n);
	bool ok;
	bool r = mp_mc_same(&fo, &fn, &ok);
	assert_true(ok);
	return r;
}

static void build(struct image *im, uint64_t text, uint64_t callee_off, uint64_t ro,
		  uint64_t str_off, uint64_t data)
{
	image_init(im, text, callee_off, ro, str_off, data);
	emit_f(im, text + callee_off, ro + str_off, data + 4);
}

static void identical_bytes_are_same(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1000, 32, 0x2000, 8, 0x3000);
	assert_true(same(&o, &n));
}

static void moved_targets_are_same(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	/* everything moved: code, callee, the string, the variable */
	build(&n, 0x1140, 40, 0x2230, 24, 0x3310);
	assert_true(same(&o, &n));
}

static void other_callee_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1000, 32, 0x2000, 8, 0x3000);
	emit_f(&n, n.secs[0].addr, 0x2000 + 8, 0x3000 + 4); /* now calls f itself */
	assert_false(same(&o, &n));
}

static void other_offset_in_variable_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1100, 32, 0x2000, 8, 0x3000);
	emit_f(&n, 0x1100 + 32, 0x2000 + 8, 0x3000 + 6); /* counter + 2 */
	assert_false(same(&o, &n));
}

static void changed_string_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1000, 32, 0x2000, 24, 0x3000); /* the string moved... */
	assert_true(same(&o, &n));
	memcpy(n.rodata + 24, "jello", 6); /* ...and changed */
	assert_false(same(&o, &n));
}

static void changed_immediate_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1200, 32, 0x2000, 8, 0x3000);
	n.text[18] = 2; /* addl $2 */
	assert_false(same(&o, &n));
}

static void different_size_differs(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1000, 32, 0x2000, 8, 0x3000);
	struct mp_mc_func fo = func_of(&o), fn = func_of(&n);
	fn.size = 21;
	bool ok;
	assert_false(mp_mc_same(&fo, &fn, &ok));
}

static void absolute_address_moved_is_same(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x401000, 32, 0x402000, 8, 0x403000);
	build(&n, 0x401000, 32, 0x402000, 8, 0x403100);
	o.elf.type = n.elf.type = ET_EXEC;
	/* mov counter, %eax (absolute 32-bit) replaces the addl */
	o.text[12] = n.text[12] = 0x8b, o.text[13] = n.text[13] = 0x04;
	o.text[14] = n.text[14] = 0x25;
	put32(o.text + 15, 0x403004);
	put32(n.text + 15, 0x403104);
	o.text[19] = n.text[19] = 0xc3;
	assert_true(same(&o, &n));
	put32(n.text + 15, 0x403100); /* another place */
	assert_false(same(&o, &n));
}

/* movl $-1, counter(%rip): the displacement is relative to the end of the
 * immediate, 4 bytes past the field; a symbol just before counter in one
 * build only must not matter. */
static void rip_operand_before_immediate(void **state)
{
	(void)state;
	struct image o, n;
	build(&o, 0x1000, 32, 0x2000, 8, 0x3000);
	build(&n, 0x1100, 32, 0x2000, 8, 0x3010);
	n.syms[3] = n.syms[2];
	n.syms[2] = (struct mp_sym){"neighbour", "", 0x3010, 4, STT_OBJECT, STB_GLOBAL, 3};
	n.elf.nsyms = 4;
	struct image *both[] = {&o, &n};
	for (int k = 0; k < 2; k++) {
		struct image *im = both[k];
		uint64_t a = im->secs[0].addr, counter = im->secs[2].addr + 4;
		im->text[12] = 0xc7, im->text[13] = 0x05; /* disp ends at 18, insn at 22 */
		put32(im->text + 14, (uint32_t)(counter - (a + 22)));
		put32(im->text + 18, 0xffffffff);
	}
	struct mp_mc_func fo = func_of(&o), fn = func_of(&n);
	fo.size = fn.size = 22;
	bool ok;
	assert_true(mp_mc_same(&fo, &fn, &ok));
	/* the neighbour itself is another place */
	put32(n.text + 14, (uint32_t)(0x3010 - (0x1100 + 22)));
	assert_false(mp_mc_same(&fo, &fn, &ok));
}

/* An image with a GOT and a PLT: f loads a GOT slot and calls a PLT entry.
 * Slot i of .got is at got_addr + 8i and stands for slots[i]: an import
 * (GLOB_DAT / JUMP_SLOT), or "&name", the address of a local symbol
 * (RELATIVE). PLT entry i jumps through slot i. */
#define NSLOTS 4
struct gimage {
	struct mp_sym syms[3];
	struct mp_elf_section secs[4];
	struct mp_got_reloc rel[NSLOTS];
	uint8_t text[16], plt[16 * NSLOTS], got[8 * NSLOTS], data[16];
	struct mp_elf elf;
};

static void gbuild(struct gimage *g, uint64_t shift, const char *const slots[NSLOTS], int load,
		   int call, bool ibt)
{
	memset(g, 0, sizeof(*g));
	uint64_t text = 0x1000 + shift, plt = 0x1800 + shift, got = 0x3000 + shift,
		 data = 0x4000 + shift;
	g->secs[0] = (struct mp_elf_section){".text", text, sizeof(g->text), g->text, true, false};
	g->secs[1] = (struct mp_elf_section){
		ibt ? ".plt.sec" : ".plt", plt, sizeof(g->plt), g->plt, true, false};
	g->secs[2] = (struct mp_elf_section){".got", got, sizeof(g->got), g->got, false, true};
	g->secs[3] = (struct mp_elf_section){".data", data, sizeof(g->data), g->data, false, true};
	g->syms[0] = (struct mp_sym){"f", "", text, 13, STT_FUNC, STB_GLOBAL, 1};
	g->syms[1] = (struct mp_sym){"counter", "a.c", data, 4, STT_OBJECT, STB_LOCAL, 4};
	g->syms[2] = (struct mp_sym){"other", "a.c", data + 8, 4, STT_OBJECT, STB_LOCAL, 4};
	for (int i = 0; i < NSLOTS; i++) {
		uint64_t slot = got + 8 * (uint64_t)i;
		if (slots[i][0] == '&')
			g->rel[i] = (struct mp_got_reloc){
				slot, R_X86_64_RELATIVE, "",
				strcmp(slots[i], "&counter") ? (int64_t)data + 8 : (int64_t)data};
		else
			g->rel[i] = (struct mp_got_reloc){slot, R_X86_64_GLOB_DAT, slots[i], 0};
		uint8_t *e = g->plt + 16 * i;
		size_t at = 0;
		if (ibt) {
			memcpy(e, "\xf3\x0f\x1e\xfa\xf2", 5); /* endbr64; bnd */
			at = 5;
		}
		e[at] = 0xff, e[at + 1] = 0x25; /* jmp *slot(%rip) */
		put32(e + at + 2, (uint32_t)(slot - (plt + 16 * (uint64_t)i + at + 6)));
	}
	g->elf.syms = g->syms;
	g->elf.nsyms = 3;
	g->elf.secs = g->secs;
	g->elf.nsecs = 4;
	g->elf.got = g->rel;
	g->elf.ngot = NSLOTS;
	g->elf.type = ET_DYN;
	/* f: mov slot(%rip),%rax; call plt entry; ret */
	g->text[0] = 0x48, g->text[1] = 0x8b, g->text[2] = 0x05;
	put32(g->text + 3, (uint32_t)(got + 8 * (uint64_t)load - (text + 7)));
	g->text[7] = 0xe8;
	put32(g->text + 8, (uint32_t)(plt + 16 * (uint64_t)call - (text + 12)));
	g->text[12] = 0xc3;
}

static bool gsame(struct gimage *o, struct gimage *n)
{
	struct mp_mc_func fo = {&o->elf, o->secs[0].addr, 13, o->text};
	struct mp_mc_func fn = {&n->elf, n->secs[0].addr, 13, n->text};
	bool ok;
	bool r = mp_mc_same(&fo, &fn, &ok);
	assert_true(ok);
	return r;
}

static const char *const old_slots[NSLOTS] = {"stdin", "stdout", "puts", "&counter"};
/* a new import and a new GOT-referenced global shifted every slot */
static const char *const new_slots[NSLOTS] = {"fputs", "&other", "stdout", "puts"};

static void moved_got_slot_and_plt_entry_are_same(void **state)
{
	(void)state;
	struct gimage o, n;
	gbuild(&o, 0, old_slots, 1, 2, false);	  /* stdout, puts@plt */
	gbuild(&n, 0x40, new_slots, 2, 3, false); /* the same, elsewhere */
	assert_true(gsame(&o, &n));
	gbuild(&n, 0, new_slots, 2, 3, true); /* .plt.sec: endbr64; bnd jmp */
	assert_true(gsame(&o, &n));
}

static void other_got_slot_differs(void **state)
{
	(void)state;
	struct gimage o, n;
	gbuild(&o, 0, old_slots, 1, 2, false);
	gbuild(&n, 0, new_slots, 0, 3, false); /* loads fputs's slot */
	assert_false(gsame(&o, &n));
	gbuild(&n, 0, new_slots, 3, 3, false); /* loads puts's slot, not stdout's */
	assert_false(gsame(&o, &n));
}

static void other_plt_entry_differs(void **state)
{
	(void)state;
	struct gimage o, n;
	gbuild(&o, 0, old_slots, 1, 2, false);
	gbuild(&n, 0, new_slots, 2, 0, false); /* calls fputs@plt */
	assert_false(gsame(&o, &n));
}

static void got_slot_of_local_address(void **state)
{
	(void)state;
	const char *const moved[NSLOTS] = {"&other", "stdin", "&counter", "puts"};
	struct gimage o, n;
	gbuild(&o, 0, old_slots, 3, 2, false); /* &counter */
	gbuild(&n, 0x80, moved, 2, 3, false);
	assert_true(gsame(&o, &n));
	gbuild(&n, 0x80, moved, 0, 3, false); /* &other */
	assert_false(gsame(&o, &n));
}

/* Without relocations a slot is compared by position: conservative. */
static void got_slot_without_relocation_by_position(void **state)
{
	(void)state;
	struct gimage o, n;
	gbuild(&o, 0, old_slots, 1, 2, false);
	gbuild(&n, 0, new_slots, 2, 3, false);
	o.elf.ngot = n.elf.ngot = 0;
	assert_false(gsame(&o, &n));
	gbuild(&n, 0, old_slots, 1, 2, false);
	n.elf.ngot = 0;
	o.elf.ngot = 0;
	assert_true(gsame(&o, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_bytes_are_same),
		cmocka_unit_test(moved_targets_are_same),
		cmocka_unit_test(other_callee_differs),
		cmocka_unit_test(other_offset_in_variable_differs),
		cmocka_unit_test(changed_string_differs),
		cmocka_unit_test(changed_immediate_differs),
		cmocka_unit_test(different_size_differs),
		cmocka_unit_test(absolute_address_moved_is_same),
		cmocka_unit_test(rip_operand_before_immediate),
		cmocka_unit_test(moved_got_slot_and_plt_entry_are_same),
		cmocka_unit_test(other_got_slot_differs),
		cmocka_unit_test(other_plt_entry_differs),
		cmocka_unit_test(got_slot_of_local_address),
		cmocka_unit_test(got_slot_without_relocation_by_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
