/* mkpatch's command line: a good one fills the options, a bad one is a
 * usage error (-EINVAL) with the reason, and -h stops the parse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

#define MAX_ARGS 16

/* getopt permutes argv: each parse gets its own writable copy. */
struct cmdline {
	char *argv[MAX_ARGS + 1];
	char text[MAX_ARGS][64];
	int argc;
};

static int parse(struct cmdline *c, struct mp_options *o, struct mp_diag *d, ...)
{
	va_list ap;
	va_start(ap, d);
	c->argc = 0;
	for (const char *a = "mkpatch"; a && c->argc < MAX_ARGS; a = va_arg(ap, const char *)) {
		snprintf(c->text[c->argc], sizeof(c->text[0]), "%s", a);
		c->argv[c->argc] = c->text[c->argc];
		c->argc++;
	}
	va_end(ap);
	c->argv[c->argc] = NULL;
	return mp_options_parse(c->argc, c->argv, o, d);
}

static void test_old_new_output(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "v1/app", "v2/app", "-o", "fix.hpk", NULL), 0);
	assert_string_equal(o.old_path, "v1/app");
	assert_string_equal(o.new_path, "v2/app");
	assert_string_equal(o.output, "fix.hpk");
	assert_false(o.dry_run || o.json || o.explain || o.verbose || o.help);
	assert_null(o.sign_key);
	assert_null(o.name);
	assert_string_equal(d.msg, "");
}

static void test_options_anywhere(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "--output=p.hpk", "old", "--explain", "new", "--json",
			       "-v", "--name", "fix-1", "--keep-temps", "--line-changes",
			       "--linker-script", "p.ld", NULL),
			 0);
	assert_string_equal(o.old_path, "old");
	assert_string_equal(o.new_path, "new");
	assert_string_equal(o.output, "p.hpk");
	assert_string_equal(o.name, "fix-1");
	assert_string_equal(o.linker_script, "p.ld");
	assert_true(o.explain && o.json && o.verbose && o.keep_temps && o.line_changes);
	assert_false(o.dry_run);
}

static void test_sign(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "--sign", "keys/ops.key", "a", "b", "-o", "p", NULL), 0);
	assert_string_equal(o.sign_key, "keys/ops.key");
	/* --sign takes its argument: without one it is a usage error */
	assert_int_equal(parse(&c, &o, &d, "a", "b", "-o", "p", "--sign", NULL), -EINVAL);
}

static void test_dry_run_needs_no_output(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "--dry-run", "a", "b", NULL), 0);
	assert_true(o.dry_run);
	assert_null(o.output);
	assert_int_equal(parse(&c, &o, &d, "-n", "--json", "a", "b", NULL), 0);
	assert_true(o.dry_run && o.json);
}

static void test_missing_output(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "a", "b", NULL), -EINVAL);
	assert_string_equal(d.msg, "-o PKG is required (or --dry-run)");
}

static void test_operand_count(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, NULL), -EINVAL);
	assert_string_equal(d.msg, "expected OLD and NEW, got 0 argument(s)");
	assert_int_equal(parse(&c, &o, &d, "a", "-o", "p", NULL), -EINVAL);
	assert_string_equal(d.msg, "expected OLD and NEW, got 1 argument(s)");
	assert_int_equal(parse(&c, &o, &d, "a", "b", "c", "-o", "p", NULL), -EINVAL);
	assert_string_equal(d.msg, "expected OLD and NEW, got 3 argument(s)");
	/* the count is checked before -o: the first problem is the one named */
	assert_int_equal(parse(&c, &o, &d, "a", NULL), -EINVAL);
	assert_string_equal(d.msg, "expected OLD and NEW, got 1 argument(s)");
}

static void test_unknown_option(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	/* getopt says which (on stderr); the reason stays empty */
	assert_int_equal(parse(&c, &o, &d, "--bogus", "a", "b", "-o", "p", NULL), -EINVAL);
	assert_string_equal(d.msg, "");
	assert_int_equal(parse(&c, &o, &d, "-x", "a", "b", "-o", "p", NULL), -EINVAL);
	assert_int_equal(parse(&c, &o, &d, "a", "b", "-o", NULL), -EINVAL);
}

static void test_help_stops(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "-h", NULL), 0);
	assert_true(o.help);
	/* what follows -h is not read, a bad option included */
	assert_int_equal(parse(&c, &o, &d, "--help", "--bogus", NULL), 0);
	assert_true(o.help);
	/* but one before it is */
	assert_int_equal(parse(&c, &o, &d, "--bogus", "-h", NULL), -EINVAL);
}

static void test_parse_again_starts_afresh(void **state)
{
	(void)state;
	struct cmdline c;
	struct mp_options o;
	struct mp_diag d;
	assert_int_equal(parse(&c, &o, &d, "--json", "a", "b", NULL), -EINVAL);
	assert_int_equal(parse(&c, &o, &d, "a", "b", "-o", "p", NULL), 0);
	assert_false(o.json);
	assert_string_equal(d.msg, "");
}

static void test_usage_names_exit_statuses(void **state)
{
	(void)state;
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	assert_non_null(f);
	mp_options_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "usage: mkpatch [options] OLD NEW -o PKG"));
	assert_non_null(strstr(buf, "--sign KEY"));
	assert_non_null(strstr(buf, "3 refused"));
	assert_non_null(strstr(buf, "4 no change"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_new_output),
		cmocka_unit_test(test_options_anywhere),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_dry_run_needs_no_output),
		cmocka_unit_test(test_missing_output),
		cmocka_unit_test(test_operand_count),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_help_stops),
		cmocka_unit_test(test_parse_again_starts_afresh),
		cmocka_unit_test(test_usage_names_exit_statuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
