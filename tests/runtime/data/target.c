/* Integration-test engine: worker threads call compute() in a tight loop
 * and abort on any result that no version of compute() can produce; the
 * main thread publishes compute(1) to a state file so the test script can
 * watch behaviour flip as patches are applied and reverted.
 * Usage: target STATE [THREADS [INTERVAL_MS]].
 * Versions: original x*factor, patch A x*factor+1000, patch B x*factor+2000,
 * helper() original x+1, patch A x+5.
 * HP_TEST_FD_HOG=FILE: while FILE exists, the main thread holds every
 * descriptor but the number FILE says (and writes no state meanwhile, so
 * that number stays exact); STATE.fds says "hogging N" or "released". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int factor = 3;
#ifdef OTHER_BUILD
/* another program for the tests: other bytes, hence another build-id */
__attribute__((used)) static const char other_build[] = "other build";
#endif
volatile long calls;

__attribute__((noinline)) int compute(int x)
{
	return x * factor;
}

__attribute__((noinline)) int helper(int x)
{
	return x + 1;
}

/* Built without padding or 2-byte entry, whatever the flags: the runtime
 * must refuse to patch it. */
__attribute__((noinline, patchable_function_entry(0, 0))) int unpatchable(int x)
{
	return x - 1;
}

static int valid(int x, int r)
{
	int base = x * factor;

	return r == base || r == base + 1000 || r == base + 2000;
}

static void write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
		rename(tmp, path);
	}
}

static int hog_fds[1 << 16], hog_n = -1;

/* Fills the descriptor table, then frees exactly `keep` slots. */
static void fd_hog(const char *ctl, const char *report)
{
	char buf[32] = "", msg[64];
	FILE *f = fopen(ctl, "r");
	int keep;

	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return; /* still being written */
	}
	fclose(f);
	keep = atoi(buf);
	hog_n = 0;
	while (hog_n < (int)(sizeof(hog_fds) / sizeof(hog_fds[0]))) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			break;
		hog_fds[hog_n++] = fd;
	}
	/* one more for the report, taken back after it */
	for (int i = 0; i < keep + 1 && hog_n > 0; i++)
		close(hog_fds[--hog_n]);
	snprintf(msg, sizeof(msg), "hogging %d\n", keep);
	write_file(report, msg);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		hog_fds[hog_n++] = fd;
}

static void fd_release(const char *report)
{
	while (hog_n > 0)
		close(hog_fds[--hog_n]);
	hog_n = -1;
	write_file(report, "released\n");
}

static void *worker(void *arg)
{
	for (unsigned i = 0;; i++) {
		int x = (int)(i & 1023);
		int r = compute(x), h = helper(x) + unpatchable(0) + 1;

		if (!valid(x, r) || (h != x + 1 && h != x + 5)) {
			fprintf(stderr, "target: invalid result compute(%d)=%d helper=%d\n", x, r,
				h);
			abort();
		}
		__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	const char *state = argc > 1 ? argv[1] : "state";
	char tmp[4096];
	pthread_t t;
	int nthreads = argc > 2 ? atoi(argv[2]) : 3;
	/* how often the state file is written (ms): many idle copies of the
	 * target write it seldom */
	int interval_ms = argc > 3 ? atoi(argv[3]) : 5;

	const char *hog = getenv("HP_TEST_FD_HOG");
	char report[4096];

	snprintf(report, sizeof(report), "%s.fds", state);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t, NULL, worker, NULL);
	/* HP_TEST_DROP_UID=N: become user N after the runtime started its
	 * listener, as a pre-forking server's workers do */
	const char *drop = getenv("HP_TEST_DROP_UID");
	if (drop) {
		uid_t uid = (uid_t)atoi(drop);
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) {
			perror("target: dropping privileges");
			return 1;
		}
	}
	for (;;) {
		struct stat st;

		if (hog && hog_n < 0 && stat(hog, &st) == 0)
			fd_hog(hog, report);
		else if (hog && hog_n >= 0 && stat(hog, &st) < 0)
			fd_release(report);
		if (hog_n >= 0) { /* no descriptor to spare for the state */
			usleep((useconds_t)interval_ms * 1000);
			continue;
		}
		FILE *f = fopen(tmp, "w");

		if (f) {
			fprintf(f, "%d %d %ld\n", compute(1), helper(1), calls);
			fclose(f);
			rename(tmp, state);
		}
		usleep((useconds_t)interval_ms * 1000);
	}
}
