/* A fix that changes a signature: scale_by(x) becomes scale_by(x, k), and
 * every caller changes with it. hammer() runs on its own thread and never
 * returns, so after the apply it keeps running its old code, which calls
 * scale_by(x) with one argument: it must keep getting the old function,
 * never the new one with whatever the second argument register holds
 * (it aborts on a wrong result). report() is called afresh every round,
 * so the new report() and the new scale_by() show in the output. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned noise;

/* Called just before scale_by(x): it leaves its second argument (odd,
 * never 2) in %esi, where a new scale_by(x, k) would find its k. */
__attribute__((noinline)) void sink(int a, unsigned b)
{
	noise += (unsigned)a + b;
}

#ifdef FIXED
__attribute__((noinline)) int scale_by(int x, int k)
{
	return x * k;
}
#else
__attribute__((noinline)) int scale_by(int x)
{
	return x * 2;
}
#endif

static void *hammer(void *arg)
{
	for (unsigned i = 0;; i++) {
		int x = (int)(i & 1023);

		sink(x, i | 5);
#ifdef FIXED
		int r = scale_by(x, 2);
#else
		int r = scale_by(x);
#endif
		if (r != x * 2) {
			fprintf(stderr, "wrong: scale_by(%d) = %d in the old caller\n", x, r);
			abort();
		}
	}
	return arg;
}

__attribute__((noinline)) int report(void)
{
#ifdef FIXED
	return scale_by(21, 3);
#else
	return scale_by(21);
#endif
}

int main(void)
{
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_create(&t, NULL, hammer, NULL);
	for (unsigned round = 0;; round++) {
		printf("R %u scale=%d\n", round, report());
		usleep(20000);
	}
}
