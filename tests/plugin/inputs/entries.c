/* Every kind of function the padding must cover. */
#include <stdarg.h>
#include <stdio.h>

static int st(int x) { return x * 7 + 1; }
int ext(int x) { return st(x) + 2; }

int var(int n, ...)
{
	va_list ap;
	int s = 0;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s += va_arg(ap, int);
	va_end(ap);
	return s;
}

void just_ret(void) {}

int loop(int n)
{
	int s = 0;

	while (n--)
		s += n;
	return s;
}

int rec(int n) { return n <= 1 ? 1 : n * rec(n - 1); }

__attribute__((naked)) void naked_fn(void) { __asm__("ret"); }

int (*fp)(int) = ext;

#ifndef NO_MAIN
int main(int argc, char **argv)
{
	just_ret();
	naked_fn();
	printf("%d\n", ext(argc) + var(2, 1, 2) + loop(argc) + fp(1) + rec(argc));
	return 0;
}
#endif
