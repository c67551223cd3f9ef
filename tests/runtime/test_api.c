/* The C API in-process: apply, revert, stacking, 100 functions at once,
 * and apply/revert cycles while threads call the function (stress). With
 * HP_BENCH=1 it prints latencies and per-call costs instead, with
 * HP_BENCH=latency only the latencies of one function. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_many.h"
#include "hotpatch/hotpatch.h"
#include "hp_package.h"
#include "hp_test_elf.h"

#define PATCHABLE __attribute__((noinline, patchable_function_entry(10, 8), aligned(16)))

int hp_api_factor = 7;
int hp_api_target(int x);
PATCHABLE int hp_api_target(int x)
{
	return x * hp_api_factor;
}

/* The plugins' layout: the 5 padding bytes start on 16 and the entry is
 * the function's own first instruction (6 bytes here), at 5 mod 16
 * (HP_PKG_FUNC_ENTRY_INSN). The benchmark calls it beside the layout above. */
int hp_api_entry_target(int x);
__attribute__((noinline, patchable_function_entry(5, 5), aligned(16))) int
hp_api_entry_target(int x)
{
	return x * hp_api_factor;
}

#define HP_MANY_FN(n)                                                                              \
	int hp_api_many_##n(int x);                                                                \
	PATCHABLE int hp_api_many_##n(int x)                                                       \
	{                                                                                          \
		return x + n;                                                                      \
	}
HP_MANY_100
#undef HP_MANY_FN
#define HP_MANY_FN(n) hp_api_many_##n,
static int (*const many[])(int) = {HP_MANY_100};

/* Builds a package replacing nfuncs functions named prefix10, prefix11...,
 * hp_api_target when prefix is NULL, the function named prefix when
 * nfuncs is 0; returns its path (static buffer). */
static const char *make_pkg(const char *so, const char *name, const char *prefix, int nfuncs)
{
	static char path[8][64];
	static int next;
	char *out = path[next++ % 8];
	struct hp_pkg_builder *b = hp_pkg_builder_new();
	uint8_t id[64];
	int idlen = hp_test_elf_build_id("/proc/self/exe", id);

	assert_true(idlen > 0);
	assert_int_equal(hp_pkg_builder_set_target(b, id, idlen, "test_api"), 0);
	assert_int_equal(hp_pkg_builder_set_name(b, name, NULL), 0);
	for (int i = 0; i < (prefix && nfuncs ? nfuncs : 1); i++) {
		struct hp_test_sym t, r;
		uint8_t code[256];
		char sym[64];

		if (prefix && nfuncs)
			snprintf(sym, sizeof(sym), "%s%d", prefix, 10 + i);
		else
			snprintf(sym, sizeof(sym), "%s", prefix ? prefix : "hp_api_target");
		assert_int_equal(hp_test_elf_sym("/proc/self/exe", sym, &t), 0);
		assert_int_equal(hp_test_elf_sym(so, sym, &r), 0);
		assert_true(t.size <= sizeof(code));
		assert_int_equal(hp_test_elf_bytes("/proc/self/exe", t.value, code, t.size), 0);
		uint32_t entry = code[0] == 0xf3 ? 4 : 0;
		/* Not a NOP pair: the function's own first instruction. */
		int own_insn = code[entry + 1] != 0x90;
		struct hp_pkg_func_spec f = {
			sym,
			"test_api.c",
			t.value,
			r.value,
			code,
			t.size,
			entry,
			(entry ? HP_PKG_FUNC_ENDBR : 0) | (own_insn ? HP_PKG_FUNC_ENTRY_INSN : 0)};
		assert_int_equal(hp_pkg_builder_add_func(b, &f), 0);
	}
	if (strstr(so, "patch_a")) {
		struct hp_test_sym s, t;

		assert_int_equal(hp_test_elf_sym(so, "__hp_proxy.hp_api_factor", &s), 0);
		assert_int_equal(hp_test_elf_sym("/proc/self/exe", "hp_api_factor", &t), 0);
		struct hp_pkg_proxy_spec p = {"hp_api_factor", "test_api.c", s.value, t.value};
		assert_int_equal(hp_pkg_builder_add_proxy(b, &p), 0);
	}
	snprintf(out, 64, "/tmp/hp-test-api-%d-%s.hpk", (int)getpid(), name);
	if (hp_pkg_builder_write(b, so, out))
		fail_msg("write: %s", hp_pkg_builder_error(b));
	hp_pkg_builder_free(b);
	return out;
}

static unsigned apply(const char *pkg)
{
	char err[512] = "";
	unsigned id = 0;

	if (hp_apply_file(pkg, NULL, &id, err, sizeof(err)))
		fail_msg("apply %s: %s", pkg, err);
	return id;
}

static void revert(const char *patch)
{
	char err[512] = "";

	if (hp_revert(patch, err, sizeof(err)))
		fail_msg("revert %s: %s", patch ? patch : "(latest)", err);
}

static size_t listed(void)
{
	struct hp_list *l;
	size_t n;

	assert_int_equal(hp_list_get(&l), 0);
	n = hp_list_count(l);
	hp_list_free(l);
	return n;
}

static void test_apply_revert(void **state)
{
	const char *a = make_pkg(HP_API_PATCH_A, "fix-a", NULL, 1);
	struct hp_patch_info info;
	struct hp_list *l;
	unsigned id;

	assert_int_equal(hp_api_target(2), 14);
	id = apply(a);
	assert_int_equal(hp_api_target(2), 114);
	hp_api_factor = 8; /* the patch reads the old image's global */
	assert_int_equal(hp_api_target(2), 116);
	hp_api_factor = 7;
	assert_int_equal(hp_list_get(&l), 0);
	assert_int_equal(hp_list_count(l), 1);
	assert_int_equal(hp_list_patch(l, 0, &info), 0);
	assert_int_equal(info.id, id);
	assert_string_equal(info.name, "fix-a");
	assert_int_equal(info.func_count, 1);
	assert_string_equal(hp_list_func(l, 0, 0), "hp_api_target");
	assert_null(hp_list_func(l, 0, 1));
	assert_true(info.applied.tv_sec > 0);
	hp_list_free(l);
	revert("fix-a");
	assert_int_equal(hp_api_target(2), 14);
	assert_int_equal(listed(), 0);
	apply(a); /* again, after revert: same package, still mapped */
	assert_int_equal(hp_api_target(2), 114);
	revert(NULL);
	assert_int_equal(hp_api_target(2), 14);
	unlink(a);
}

/* The plugins' layout: the jump replaces the first 2 bytes of the
 * function's own first instruction, and revert puts them back. */
static void test_entry_insn(void **state)
{
	const char *e = make_pkg(HP_API_PATCH_B, "entry", "hp_api_entry_target", 0);
	uint8_t before[16], after[16];

	memcpy(before, (const void *)hp_api_entry_target, sizeof(before));
	assert_int_equal(hp_api_entry_target(2), 14);
	apply(e);
	assert_int_equal(hp_api_entry_target(2), 214);
	assert_int_equal(hp_api_target(2), 14);
	revert(NULL);
	assert_int_equal(hp_api_entry_target(2), 14);
	memcpy(after, (const void *)hp_api_entry_target, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	unlink(e);
}

static void test_stacking(void **state)
{
	const char *a = make_pkg(HP_API_PATCH_A, "sa", NULL, 1);
	const char *b = make_pkg(HP_API_PATCH_B, "sb", NULL, 1);
	char id[16];

	apply(a);
	apply(b);
	assert_int_equal(hp_api_target(1), 207);
	revert("sb");
	assert_int_equal(hp_api_target(1), 107);
	snprintf(id, sizeof(id), "%u", apply(b));
	revert("sa"); /* not the newest: nothing visible changes */
	assert_int_equal(hp_api_target(1), 207);
	revert(id);
	assert_int_equal(hp_api_target(1), 7);
	assert_int_equal(listed(), 0);
	unlink(a);
	unlink(b);
}

static void test_many(void **state)
{
	const char *m = make_pkg(HP_API_PATCH_MANY, "many", "hp_api_many_", 100);

	apply(m);
	for (int i = 0; i < 100; i++)
		assert_int_equal(many[i](1), 1 + 10 + i + 1000);
	revert("many");
	for (int i = 0; i < 100; i++)
		assert_int_equal(many[i](1), 1 + 10 + i);
	unlink(m);
}

static volatile int stop;
static long bad;

static void *caller(void *arg)
{
	long *n = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int x = 0; x < 1000; x++) {
			int r = hp_api_target(x);

			if (r != x * 7 && r != x * 7 + 100)
				__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
		}
		*n += 1000;
	}
	return NULL;
}

static void test_stress(void **state)
{
	const char *a = make_pkg(HP_API_PATCH_A, "stress", NULL, 1);
	const char *env = getenv("HP_STRESS_CYCLES");
	long cycles = env ? atol(env) : 1000, calls[2] = {0};
	pthread_t t[2];
	struct timespec t0, t1;

	stop = 0;
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, caller, &calls[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < cycles; i++) {
		apply(a);
		revert(NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("# %ld apply+revert cycles in %.2f s under %ld calls, %ld invalid\n", cycles,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, calls[0] + calls[1], bad);
	assert_int_equal(bad, 0);
	assert_int_equal(hp_api_target(3), 21);
	unlink(a);
}

/* Forks children while apply and revert of 100 functions go on: each
 * child must find one state or the other (all 100 switched and the patch
 * listed, or none and nothing listed), never a commit half done. */
static long forks, torn;

static int child_consistent(void)
{
	struct hp_list *l;
	int patched = 0;
	size_t n;

	for (int i = 0; i < 100; i++)
		patched += many[i](1) == 1 + 10 + i + 1000;
	if (hp_list_get(&l))
		return 0;
	n = hp_list_count(l);
	hp_list_free(l);
	return (patched == 0 && n == 0) || (patched == 100 && n == 1);
}

static void *forker(void *arg)
{
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int status;
		pid_t pid = fork();

		if (pid == 0)
			_exit(child_consistent() ? 0 : 1);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			continue;
		forks++;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			torn++;
	}
	return arg;
}

static void test_fork_mid_commit(void **state)
{
	const char *m = make_pkg(HP_API_PATCH_MANY, "forked", "hp_api_many_", 100);
	pthread_t t;

	stop = 0;
	pthread_create(&t, NULL, forker, NULL);
	for (int i = 0; i < 2000; i++) {
		apply(m);
		revert(NULL);
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("# %ld children forked during 2000 apply+revert cycles of 100 functions, %ld torn\n",
	       forks, torn);
	assert_int_equal(torn, 0);
	assert_true(forks > 0);
	unlink(m);
}

/* ---- benchmarks ---- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench_latency(int nfuncs)
{
	const char *pkg = make_pkg(HP_API_PATCH_MANY, "bench", "hp_api_many_", nfuncs);
	double ap[200], rv[200];

	for (int i = 0; i < 200; i++) {
		double t0 = now_ns();

		apply(pkg);
		ap[i] = now_ns() - t0;
		t0 = now_ns();
		revert(NULL);
		rv[i] = now_ns() - t0;
	}
	qsort(ap, 200, sizeof(double), cmp_double);
	qsort(rv, 200, sizeof(double), cmp_double);
	printf("apply  %3d functions: median %8.1f us  p90 %8.1f us\n", nfuncs, ap[100] / 1e3,
	       ap[180] / 1e3);
	printf("revert %3d functions: median %8.1f us  p90 %8.1f us\n", nfuncs, rv[100] / 1e3,
	       rv[180] / 1e3);
	unlink(pkg);
}

/* ns per call of fn, called directly as a program calls it (not through
 * a pointer, which costs more than the patch's jumps), over one run. */
#define PER_CALL(fn)                                                                               \
	static double per_call_##fn(void)                                                          \
	{                                                                                          \
		const long n = 20000000;                                                           \
		volatile int sink = 0;                                                             \
		double t0 = now_ns();                                                              \
                                                                                                   \
		for (long i = 0; i < n; i++)                                                       \
			sink += fn((int)i);                                                        \
		return (now_ns() - t0) / n;                                                        \
	}
PER_CALL(hp_api_target)
PER_CALL(hp_api_entry_target)

#define CALL_ROUNDS 9

/* Unpatched and patched calls (the function the package pkg replaces), in
 * interleaved rounds, medians: a machine whose load changes during the
 * run moves both sides alike. */
static void bench_call(const char *layout, double (*per_call)(void), const char *pkg)
{
	double plain[CALL_ROUNDS], patched[CALL_ROUNDS];

	for (int r = 0; r < CALL_ROUNDS; r++) {
		plain[r] = per_call();
		apply(pkg);
		patched[r] = per_call();
		revert(NULL);
	}
	qsort(plain, CALL_ROUNDS, sizeof(double), cmp_double);
	qsort(patched, CALL_ROUNDS, sizeof(double), cmp_double);
	printf("call, %s: unpatched %.2f ns, patched %.2f ns (%+.2f ns), medians of %d "
	       "interleaved rounds\n",
	       layout, plain[CALL_ROUNDS / 2], patched[CALL_ROUNDS / 2],
	       patched[CALL_ROUNDS / 2] - plain[CALL_ROUNDS / 2], CALL_ROUNDS);
}

static void bench(void)
{
	const char *b = make_pkg(HP_API_PATCH_B, "bench-call", NULL, 1);
	const char *e = make_pkg(HP_API_PATCH_B, "bench-entry", "hp_api_entry_target", 0);

	bench_latency(1);
	bench_latency(10);
	bench_latency(100);
	bench_call("plugins' layout (entry insn at 5 mod 16)", per_call_hp_api_entry_target, e);
	bench_call("8 NOPs before an entry at 8 mod 16", per_call_hp_api_target, b);
	unlink(b);
	unlink(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_revert), cmocka_unit_test(test_entry_insn),
		cmocka_unit_test(test_stacking),     cmocka_unit_test(test_many),
		cmocka_unit_test(test_stress),	     cmocka_unit_test(test_fork_mid_commit),
	};

	if (getenv("HP_BENCH")) {
		/* latency: only apply and revert of one function (bench-cli
		 * prints it beside the CLI's numbers) */
		if (!strcmp(getenv("HP_BENCH"), "latency"))
			bench_latency(1);
		else
			bench();
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
