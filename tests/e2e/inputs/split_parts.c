/* Functions GCC splits at -O2: split_fn's unlikely branch goes to
 * split_fn.cold; heavy()'s cheap early exit is inlined into its callers
 * and the rest becomes heavy.part.0. The fix (-DFIXED) changes split_fn's
 * hot path and the loop in heavy.part.0. A loop that never returns prints
 * one line per round: "R ROUND split=N heavy=N". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FIXED
#define STEP 2
#define MIX 7
#else
#define STEP 3
#define MIX 8
#endif

long ext_calls;

int split_fn(int x)
{
	if (__builtin_expect(x == 123456, 0)) {
		for (int i = 0; i < x; i++)
			ext_calls += i * 7 + (ext_calls >> 3);
		abort();
	}
	return x + STEP;
}

int heavy(const char *s, int len)
{
	if (len == 0)
		return 0;
	int acc = 0;
	for (int i = 0; i < len; i++) {
		acc = acc * 31 + s[i];
		if (s[i] == ',')
			acc ^= 0x5555;
		if (s[i] == ';')
			acc += len * 3;
		if (s[i] == '\n') {
			acc -= MIX;
			ext_calls++;
		}
	}
	return acc;
}

int user(const char *s)
{
	return heavy(s, (int)strlen(s)) + 1;
}

/* Not inlined into main: main's loop never returns, so what the patch
 * must reach is a call it makes. */
__attribute__((noinline)) static void one_round(long round)
{
	printf("R %ld split=%d heavy=%d\n", round, split_fn(1), user("a\n"));
	fflush(stdout);
}

int main(void)
{
	for (long round = 0;; round++) {
		one_round(round);
		usleep(2000);
	}
}
