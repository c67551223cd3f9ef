/* Functions of every shape the entry layout has to survive. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int ext_calls;

__attribute__((noinline)) static int st(int x) { return x * 5 + 1; }
int ext(int x) { ext_calls++; return st(x) - 1; }
void just_ret(void) {}

int var(int n, ...)
{
	va_list ap;
	int s = 0;

	va_start(ap, n);
	while (n-- > 0)
		s += va_arg(ap, int);
	va_end(ap);
	return s;
}

/* A loop that starts at the top: its back edge must not reach the entry. */
__attribute__((noinline)) int loop(unsigned n)
{
	do
		n = n & 1 ? 3 * n + 1 : n / 2;
	while (n > 1);
	return (int)n;
}

/* Tail recursion becomes a loop to the top of the body. */
__attribute__((noinline)) int rec(int n, int acc) { return n ? rec(n - 1, acc + n) : acc; }

static int by_ptr(int x) { return x ^ 0x55; }
int (*volatile fptr)(int) = by_ptr;

/* GCC splits the unlikely branch into split_fn.cold. */
int split_fn(int x)
{
	if (__builtin_expect(x == 123456, 0)) {
		for (int i = 0; i < x; i++)
			ext_calls += i * 7 + (ext_calls >> 3);
		abort();
	}
	return x + 2;
}

__attribute__((naked)) void naked_fn(void) { __asm__("ret"); }

int table(int k)
{
	switch (k) {
	case 0: return 11;
	case 1: return 23;
	case 2: return 37;
	case 3: return 41;
	case 4: return 59;
	case 5: return 67;
	default: return -1;
	}
}

#ifndef NO_MAIN
int main(void)
{
	int ok = ext(2) == 10 && var(3, 1, 2, 3) == 6 && loop(27) == 1 && rec(10, 0) == 55 &&
		 fptr(0x55) == 0 && split_fn(1) == 3 && table(3) == 41 && table(9) == -1;

	just_ret();
	naked_fn();
	puts(ok ? "ok" : "WRONG");
	return ok ? 0 : 1;
}
#endif
