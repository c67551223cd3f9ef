#include <stdio.h>
#include <stdlib.h>

void report(const char *what);

/* New: a global and two imports (getenv, stderr) that take GOT slots and
 * PLT entries ahead of the ones report() uses. */
int limit = 64;

int __attribute__((noinline)) work(int n)
{
	if (getenv("HP_LIMIT"))
		fputs("limit\n", stderr);
	return n > limit ? limit : n * 3;
}

int main(int argc, char **argv)
{
	report(argv[0]);
	return work(argc);
}
