/* Clone names correlate by origin, whatever number the build gave them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model.h"

static void expect_key(const char *name, const char *key)
{
	char *k = mp_clone_key(name);
	assert_non_null(k);
	assert_string_equal(k, key);
	free(k);
}

static void test_numbers_dropped(void **state)
{
	(void)state;
	expect_key("parse.constprop.0", "parse.constprop");
	expect_key("parse.constprop.12", "parse.constprop");
	expect_key("parse.isra.3", "parse.isra");
	expect_key("parse.part.0.cold", "parse.part.cold");
	expect_key("parse.cold", "parse.cold");
	expect_key("parse.llvm.1234567890", "parse");
	expect_key("parse.specialized.2", "parse.specialized");
	expect_key("parse.constprop.0.isra.1", "parse.constprop.isra");
}

static void test_plain_names_kept(void **state)
{
	(void)state;
	expect_key("parse", "parse");
	expect_key("handle.2", "handle.2"); /* not a clone suffix: keep the number */
	expect_key(".hidden", ".hidden");
	expect_key("", "");
}

static void test_is_clone(void **state)
{
	(void)state;
	assert_true(mp_is_clone_name("f.constprop.0"));
	assert_true(mp_is_clone_name("f.llvm.77"));
	assert_true(mp_is_clone_name("f.cold"));
	assert_false(mp_is_clone_name("f"));
	assert_false(mp_is_clone_name("f.count"));
	assert_false(mp_is_clone_name(".constprop"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_dropped),
		cmocka_unit_test(test_plain_names_kept),
		cmocka_unit_test(test_is_clone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
