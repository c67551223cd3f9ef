/* hp_cmdline: reading /proc/<pid>/cmdline, telling a compiler proper from a
 * driver, the object -o names, and finding the driver command from inside
 * a spawned cc1.
 *
 * The driver case needs a real parent and child: the test runs itself
 * again as "driver" (its argv naming a source) which runs itself once more
 * as a cc1 child; the child checks what hp_cmdline_driver() returned. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hp_cmdline.h"

static int main_argc;
static char **main_argv;

/* An hp_cmdline over a fixed list (no buffer of its own). */
#define CL(...)                                                                                    \
	(&(struct hp_cmdline){.argv = (char *[]){__VA_ARGS__, NULL},                               \
			      .argc = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

static void test_read_self(void **state)
{
	(void)state;
	struct hp_cmdline cl;

	assert_int_equal(hp_cmdline_read(&cl, 0), 0);
	assert_int_equal(cl.argc, main_argc);
	for (int i = 0; i < main_argc; i++)
		assert_string_equal(cl.argv[i], main_argv[i]);
	assert_null(cl.argv[cl.argc]);
	hp_cmdline_release(&cl);
	assert_null(cl.argv);
	hp_cmdline_release(&cl); /* twice: safe */
}

static void test_read_missing_process(void **state)
{
	(void)state;
	struct hp_cmdline cl;

	/* above any pid_max */
	assert_int_equal(hp_cmdline_read(&cl, 0x7ffffffe), -ENOENT);
	assert_null(cl.argv);
	hp_cmdline_release(&cl);
}

static void test_is_cc1(void **state)
{
	(void)state;
	assert_true(hp_cmdline_is_cc1(CL("clang-19", "-cc1", "-emit-obj")));
	assert_true(hp_cmdline_is_cc1(CL("/usr/libexec/gcc/x86_64-linux-gnu/14/cc1", "a.c")));
	assert_true(hp_cmdline_is_cc1(CL("cc1plus", "a.cc")));
	assert_false(hp_cmdline_is_cc1(CL("clang-19", "-c", "a.c", "-cc1")));
	assert_false(hp_cmdline_is_cc1(CL("gcc", "-c", "a.c")));
	assert_false(hp_cmdline_is_cc1(CL("/opt/cc1/bin/gcc")));
	assert_false(hp_cmdline_is_cc1(&(struct hp_cmdline){0}));
}

static void test_output_of_an_object(void **state)
{
	(void)state;
	assert_string_equal(hp_cmdline_output(CL("cc", "-c", "a.c", "-o", "a.o")), "a.o");
	assert_string_equal(hp_cmdline_output(CL("cc", "-o", "b/a.o", "-O2", "-c", "a.c")),
			    "b/a.o");
	assert_string_equal(hp_cmdline_output(CL("cc", "-S", "a.c", "-oa.s")), "a.s");
	assert_string_equal(hp_cmdline_output(CL("cc", "-c", "-o", "x.o", "-o", "y.o")), "y.o");
	assert_string_equal(hp_cmdline_output(CL("clang", "-cc1", "-o", "/tmp/a-1.o")),
			    "/tmp/a-1.o");
}

static void test_no_output_when_linking(void **state)
{
	(void)state;
	/* the object is a temporary file */
	assert_null(hp_cmdline_output(CL("cc", "a.c", "-o", "prog")));
	/* an object but no -o: the compiler picks the name */
	assert_null(hp_cmdline_output(CL("cc", "-c", "a.c")));
	/* -o without its value */
	assert_null(hp_cmdline_output(CL("cc", "-c", "a.c", "-o")));
	/* "-o" as argv[0] is the program, not an option */
	assert_null(hp_cmdline_output(CL("-o", "-c")));
}

static void test_driver_of_a_driver_is_itself(void **state)
{
	(void)state;
	struct hp_cmdline cl;

	assert_int_equal(hp_cmdline_driver(&cl, "a.c"), 0);
	assert_int_equal(cl.argc, main_argc);
	assert_string_equal(cl.argv[0], main_argv[0]);
	hp_cmdline_release(&cl);
}

/* The cc1 children: their argv, the source they are told they compile,
 * and the argv[1] the driver command they find must have. */
static const struct {
	const char *argv[4];
	const char *source, *want_argv1;
} children[] = {
	/* GCC: the parent names the source: its command is the driver's */
	{{"cc1", "x.c", NULL}, "x.c", "--as-driver"},
	/* clang -fno-integrated-cc1 */
	{{"clang-19", "-cc1", "x.c", NULL}, "x.c", "--as-driver"},
	/* a parent that does not name the source is not the driver */
	{{"cc1", "y.c", NULL}, "y.c", "y.c"},
};

/* As the cc1 child: 0 when hp_cmdline_driver() found what it should. */
static int run_as_cc1(int which)
{
	struct hp_cmdline cl;
	int ok;

	if (hp_cmdline_driver(&cl, children[which].source))
		return 2;
	ok = cl.argc >= 2 && !strcmp(cl.argv[1], children[which].want_argv1);
	hp_cmdline_release(&cl);
	return ok ? 0 : 1;
}

static int wait_for(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* As the driver: run child `which`, return its status. */
static int run_as_driver(int which)
{
	char num[16];
	pid_t pid;

	snprintf(num, sizeof(num), "%d", which);
	setenv("HP_TEST_CC1", num, 1);
	pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", (char *const *)children[which].argv);
		_exit(127);
	}
	return wait_for(pid);
}

static void test_driver_found_from_cc1(void **state)
{
	(void)state;
	for (int i = 0; i < (int)(sizeof(children) / sizeof(children[0])); i++) {
		char num[16];
		pid_t pid;

		snprintf(num, sizeof(num), "%d", i);
		pid = fork();
		if (pid == 0) {
			/* the driver's command names x.c, never y.c */
			char *const argv[] = {"hp-driver", "--as-driver", num, "-c", "x.c", NULL};

			execv("/proc/self/exe", argv);
			_exit(127);
		}
		assert_int_equal(wait_for(pid), 0);
	}
}

int main(int argc, char **argv)
{
	const char *cc1 = getenv("HP_TEST_CC1");

	if (argc >= 3 && !strcmp(argv[1], "--as-driver"))
		return run_as_driver(atoi(argv[2]));
	if (cc1)
		return run_as_cc1(atoi(cc1));
	main_argc = argc;
	main_argv = argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_missing_process),
		cmocka_unit_test(test_is_cc1),
		cmocka_unit_test(test_output_of_an_object),
		cmocka_unit_test(test_no_output_when_linking),
		cmocka_unit_test(test_driver_of_a_driver_is_itself),
		cmocka_unit_test(test_driver_found_from_cc1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
