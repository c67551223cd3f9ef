/* Unit tests of the machine-code comparison on hand-made code and symbol
 * tables: moved call targets and RIP-relative data are explained away,
 * anything else is a change. */
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
