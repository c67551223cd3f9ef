#include <stdio.h>

static int scale(int x) { return x * 42; }

int twice(int x) { return scale(x) + scale(x + 1); }

const char *greet(void) { return "hello"; }

int unrelated(int x)
{
	if (x > 3)
		puts("big");
	return x - 1;
}

int line(void) { return __LINE__; }
