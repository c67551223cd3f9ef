/* hp_patch_spec: the patch-mode spec file mkpatch writes for the plugins.
 * Good files give the right kinds per name; every malformed line is an
 * error naming file and line; refusals go to the named file, one line
 * each. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hp_patch_spec.h"

struct fixture {
	char dir[64];
	char path[128];
	char msg[512];
	struct hp_patch_spec spec;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/hp-spec-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/spec", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	hp_patch_spec_release(&f->spec);
	unlink(f->path);
	snprintf(path, sizeof(path), "%s/refusals", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Write text as the spec file and load it. */
static int load(struct fixture *f, const char *text)
{
	FILE *out = fopen(f->path, "w");

	assert_non_null(out);
	assert_int_equal(fputs(text, out) >= 0, 1);
	assert_int_equal(fclose(out), 0);
	hp_patch_spec_release(&f->spec);
	f->msg[0] = 0;
	return hp_patch_spec_load(&f->spec, f->path, f->msg, sizeof(f->msg));
}

static void test_directives_and_comments(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "# the functions to keep\n"
				 "keep parse\n"
				 "\t old-func  helper   # trailing comment\n"
				 "\n"
				 "old-var counter\n"
				 "keep helper\n"
				 "keep parse\n"
				 "refusals /tmp/a dir/refusals\n"),
			 0);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "parse"), HP_SPEC_KEEP);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "helper"), HP_SPEC_KEEP | HP_SPEC_OLD_FUNC);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "counter"), HP_SPEC_OLD_VAR);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "absent"), HP_SPEC_NONE);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "pars"), HP_SPEC_NONE);
	/* one entry per name, sorted */
	assert_int_equal(f->spec.count, 3);
	for (size_t i = 1; i < f->spec.count; i++)
		assert_true(strcmp(f->spec.entries[i - 1].name, f->spec.entries[i].name) < 0);
	/* the rest of the line, spaces and all */
	assert_string_equal(f->spec.refusals_path, "/tmp/a dir/refusals");
}

static void test_empty_spec(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(f->spec.count, 0);
	assert_null(f->spec.refusals_path);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "main"), HP_SPEC_NONE);
	assert_int_equal(load(f, "# nothing\n   \n"), 0);
	assert_int_equal(f->spec.count, 0);
	/* the last line may lack its newline */
	assert_int_equal(load(f, "keep last"), 0);
	assert_int_equal(hp_patch_spec_lookup(&f->spec, "last"), HP_SPEC_KEEP);
}

/* text is refused at line, with a message naming file and line. */
static void expect_syntax_error(struct fixture *f, const char *text, unsigned line)
{
	char prefix[160];

	assert_int_equal(load(f, text), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", f->path, line);
	assert_memory_equal(f->msg, prefix, strlen(prefix));
	/* nothing half-loaded stays */
	assert_int_equal(f->spec.count, 0);
	assert_null(f->spec.entries);
	assert_null(f->spec.refusals_path);
}

static void test_bad_lines_refused(void **state)
{
	struct fixture *f = *state;

	expect_syntax_error(f, "keep\n", 1);
	expect_syntax_error(f, "keep a b\n", 1);
	expect_syntax_error(f, "keep a\nfrobnicate b\n", 2);
	expect_syntax_error(f, "Keep a\n", 1);
	expect_syntax_error(f, "keep a\n# ok\nold-func\n", 3);
	expect_syntax_error(f, "refusals\n", 1);
	expect_syntax_error(f, "refusals /a\nrefusals /b\n", 2);
	assert_non_null(strstr(f->msg, "expected 'keep NAME'"));
}

static void test_long_line_refused(void **state)
{
	struct fixture *f = *state;
	size_t n = 5000;
	char *text = malloc(n + 8);

	assert_non_null(text);
	memcpy(text, "keep ", 5);
	memset(text + 5, 'x', n);
	strcpy(text + 5 + n, "\n");
	assert_int_equal(load(f, text), -EINVAL);
	assert_non_null(strstr(f->msg, ":1: line too long"));
	free(text);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/absent", f->dir);
	assert_int_equal(hp_patch_spec_load(&f->spec, path, f->msg, sizeof(f->msg)), -ENOENT);
	assert_non_null(strstr(f->msg, "cannot read patch spec '"));
	assert_non_null(strstr(f->msg, "/absent'"));
}

static void test_refusals_appended_one_line_each(void **state)
{
	struct fixture *f = *state;
	char text[256], path[160], got[256] = "";
	FILE *in;

	snprintf(path, sizeof(path), "%s/refusals", f->dir);
	snprintf(text, sizeof(text), "refusals %s\n", path);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(hp_patch_spec_refuse(&f->spec, "function 'a' changed its layout"), 0);
	assert_int_equal(hp_patch_spec_refuse(&f->spec, "variable 'b'"), 0);
	in = fopen(path, "r");
	assert_non_null(in);
	assert_int_equal(fread(got, 1, sizeof(got) - 1, in) > 0, 1);
	fclose(in);
	assert_string_equal(got, "function 'a' changed its layout\nvariable 'b'\n");
}

static void test_refusals_without_file(void **state)
{
	struct fixture *f = *state;
	char text[256];

	/* no file named: nothing to write, no error */
	assert_int_equal(load(f, "keep a\n"), 0);
	assert_int_equal(hp_patch_spec_refuse(&f->spec, "x"), 0);
	/* a file that cannot be created: the errno */
	snprintf(text, sizeof(text), "refusals %s/no/such/dir/r\n", f->dir);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(hp_patch_spec_refuse(&f->spec, "x"), -ENOENT);
}

static void test_release_zeroed(void **state)
{
	(void)state;
	struct hp_patch_spec spec = {0};

	hp_patch_spec_release(&spec);
	hp_patch_spec_release(&spec);
	assert_int_equal(hp_patch_spec_lookup(&spec, "a"), HP_SPEC_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_directives_and_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_appended_one_line_each, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals_without_file, setup, teardown),
		cmocka_unit_test(test_release_zeroed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
