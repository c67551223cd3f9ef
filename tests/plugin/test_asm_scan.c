/* hp_asm_branch_targets: which names inline assembly calls or jumps to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hp_asm_scan.h"

struct seen {
	char text[256];
};

static void collect(const char *name, size_t len, void *ctx)
{
	struct seen *s = ctx;
	size_t used = strlen(s->text);

	snprintf(s->text + used, sizeof(s->text) - used, "%s%.*s", used ? "," : "", (int)len, name);
}

/* The names found in text, comma-separated, and their count. */
static void expect_targets(const char *text, const char *names, size_t count)
{
	struct seen s = {""};

	assert_int_equal(hp_asm_branch_targets(text, collect, &s), count);
	assert_string_equal(s.text, names);
}

static void test_calls_and_jumps_found(void **state)
{
	(void)state;
	expect_targets("call refill", "refill", 1);
	expect_targets("\tcallq refill@PLT\n\tjmp out", "refill,out", 2);
	expect_targets("pushq %rax; call do_work; popq %rax", "do_work", 1);
	expect_targets("testl %eax, %eax\n\tjne slow_path", "slow_path", 1);
	expect_targets("calll .Lhelper", ".Lhelper", 1);
	expect_targets(".globl tramp\ntramp:\n\tjmp other\n", "other", 1);
}

static void test_what_the_compiler_sees_ignored(void **state)
{
	(void)state;
	/* operands the compiler fills in, indirect branches, local labels */
	expect_targets("call %P0", "", 0);
	expect_targets("call *%rax\n\tjmp *8(%rsp)", "", 0);
	expect_targets("jne 1f\n1:", "", 0);
	expect_targets("movq $callback, %rax", "", 0);
	/* words that only look like mnemonics */
	expect_targets("callback: ret", "", 0);
	expect_targets("movq %rax, jmp_buf(%rip)", "", 0);
	expect_targets("nop # call me later", "me", 1); /* a comment: over-approximate */
	expect_targets("", "", 0);
	expect_targets(NULL, "", 0);
}

static void test_mentions_whole_symbols(void **state)
{
	(void)state;
	assert_true(hp_asm_mentions("incl counter(%rip)", "counter"));
	assert_true(hp_asm_mentions("movq $0, counter", "counter"));
	assert_true(hp_asm_mentions("lea page.1(%rip), %rax", "page.1"));
	assert_false(hp_asm_mentions("incl counters(%rip)", "counter"));
	assert_false(hp_asm_mentions("incl my_counter(%rip)", "counter"));
	assert_false(hp_asm_mentions("incl counter.2(%rip)", "counter"));
	assert_false(hp_asm_mentions("nop", "counter"));
	assert_false(hp_asm_mentions(NULL, "counter"));
	assert_false(hp_asm_mentions("counter", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_and_jumps_found),
		cmocka_unit_test(test_what_the_compiler_sees_ignored),
		cmocka_unit_test(test_mentions_whole_symbols),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
