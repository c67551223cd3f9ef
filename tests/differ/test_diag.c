/* Error texts: a project code is never shown as strerror()'s "Unknown
 * error 4096", and the refusals a patch-mode compile writes become one
 * refusal each. */
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

#include "check.h"
#include "diag.h"
#include "recompile.h"

static void test_project_codes_have_text(void **state)
{
	(void)state;
	/* Every code of the one error space, each library's. */
	int codes[] = {HP_EFORMAT,	 HP_EMAGIC,	HP_EVERSION,   HP_ETRUNC,      HP_ECHECKSUM,
		       HP_EBOUNDS,	 HP_ESIGNATURE, HP_EUNTRUSTED, HP_ENOTARGET,   HP_EMISMATCH,
		       HP_ENOTPATCHABLE, HP_EOUTSIDE,	HP_EWX,	       HP_ELOAD,       HP_ENOPATCH,
		       HP_EPROTO,	 HP_EHOOK,	HP_EMD_MAGIC,  HP_EMD_VERSION, HP_EMD_TRUNC,
		       HP_EMD_MALFORMED, HP_EMALFORMED, HP_ENOMETA,    HP_EDIFFERENT,  HP_EREFUSED,
		       HP_ERECOMPILE};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *pos = hp_strerror(codes[i]), *neg = hp_strerror(-codes[i]);
		assert_non_null(pos);
		assert_string_equal(pos, neg);
		assert_null(strstr(pos, "Unknown error"));
		assert_string_not_equal(pos, "unknown hotpatch error");
	}
	assert_string_equal(hp_strerror(HP_ERR_END + 100), "unknown hotpatch error");
}

static void test_errno_is_strerror(void **state)
{
	(void)state;
	assert_string_equal(hp_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(hp_strerror(ENOMEM), strerror(ENOMEM));
}

static void test_fail_formats_and_negates(void **state)
{
	(void)state;
	struct mp_diag d = {{0}};
	assert_int_equal(mp_fail(&d, HP_ERECOMPILE, "cannot recompile '%s'", "a.c"),
			 -HP_ERECOMPILE);
	assert_string_equal(d.msg, "cannot recompile 'a.c'");
	assert_int_equal(mp_fail(NULL, EIO, "ignored"), -EIO);
}

static void test_refusals_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_diag.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "'t' (a.c) refers to 'f' in a global initialiser\n\n"
			    "thread-local variable 'v' (a.c) cannot go through a proxy slot\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	struct mp_findings fi = {0};
	struct mp_diag d = {{0}};
	assert_int_equal(mp_read_refusals(path, &fi, &d), 2);
	assert_int_equal(fi.nrefusals, 2);
	assert_string_equal(fi.refusals[0], "'t' (a.c) refers to 'f' in a global initialiser");
	assert_string_equal(fi.refusals[1],
			    "thread-local variable 'v' (a.c) cannot go through a proxy slot");
	mp_findings_release(&fi);
	unlink(path);
	/* no file: the compile refused nothing */
	struct mp_findings none = {0};
	assert_int_equal(mp_read_refusals(path, &none, &d), 0);
	assert_int_equal(none.nrefusals, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_codes_have_text),
		cmocka_unit_test(test_errno_is_strerror),
		cmocka_unit_test(test_fail_formats_and_negates),
		cmocka_unit_test(test_refusals_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
