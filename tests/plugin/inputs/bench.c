/* CPU-bound: many calls of small functions that are not all inlined. */
#include <stdio.h>
#include <stdlib.h>

#define N 64
static unsigned table[N];

__attribute__((noinline)) static unsigned mix(unsigned a, unsigned b) { return (a ^ b) * 2654435761u + (a >> 7); }
__attribute__((noinline)) unsigned step(unsigned x) { return mix(x, table[x % N]) + 1; }
static unsigned small(unsigned x) { return x * 3 + 1; }
__attribute__((noinline)) unsigned fold(unsigned acc, unsigned x) { return acc + small(step(x)); }

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], 0, 10) : 50000000ul;
	unsigned acc = 1;

	for (unsigned i = 0; i < N; i++)
		table[i] = i * 7919u;
	for (unsigned long i = 0; i < iters; i++)
		acc = fold(acc, acc + (unsigned)i);
	printf("%u\n", acc);
	return 0;
}
