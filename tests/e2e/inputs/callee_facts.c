/* Callers that depend on their callees by name only (issue: interprocedural
 * facts in base builds). Two loops that never return call four callees whose
 * bodies invite the optimiser to fold them into the caller:
 *
 *   answer()  returns a constant      -> return-value propagation
 *   word()    returns a literal       -> the same, for a pointer
 *   refresh() has no effect (v1)      -> readnone: its calls merged/hoisted
 *   stop()    always aborts (v1)      -> noreturn: code after the call gone
 *
 * -DFIXED is the fix: each callee changes, no caller does. Each loop prints
 * one line per round; "stop" is reached only after SIGUSR1 (v1 would abort,
 * so the test sends it only while the fix is applied).
 *
 * Line: TAG ROUND answer=N word=S effects=N stops=N */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long effects; /* written by refresh() in the fix only */
static long stops;   /* written by stop() in the fix only */
static volatile sig_atomic_t poked;

__attribute__((noinline)) int answer(void)
{
#ifndef FIXED
	return 41;
#else
	return 42;
#endif
}

__attribute__((noinline)) const char *word(void)
{
#ifndef FIXED
	return "old";
#else
	return "new";
#endif
}

__attribute__((noinline)) static int refresh(int x)
{
#ifdef FIXED
	__atomic_fetch_add(&effects, 1, __ATOMIC_RELAXED);
#endif
	return x * x;
}

__attribute__((noinline)) static void stop(const char *why)
{
#ifndef FIXED
	fprintf(stderr, "fatal: %s\n", why);
	abort();
#else
	(void)why;
	__atomic_fetch_add(&stops, 1, __ATOMIC_RELAXED);
#endif
}

static void on_usr1(int sig)
{
	(void)sig;
	poked = 1;
}

static void report(const char *tag, long round, int sum)
{
	printf("%s %ld answer=%d word=%s effects=%ld stops=%ld sum=%d\n", tag, round, answer(),
	       word(), __atomic_load_n(&effects, __ATOMIC_RELAXED),
	       __atomic_load_n(&stops, __ATOMIC_RELAXED), sum);
	fflush(stdout);
}

static void *side_loop(void *arg)
{
	(void)arg;
	for (long round = 0;; round++) {
		report("T", round, 0);
		usleep(2000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t thread;

	(void)argv;
	signal(SIGUSR1, on_usr1);
	if (pthread_create(&thread, NULL, side_loop, NULL))
		return 1;
	for (long round = 0;; round++) {
		int sum = 0;
		for (int i = 0; i < 4; i++)
			sum += refresh(argc);
		if (poked) {
			poked = 0;
			stop("poked");
		}
		report("M", round, sum);
		usleep(2000);
	}
}
