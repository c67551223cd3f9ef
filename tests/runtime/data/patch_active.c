/* Patch for active_target.c: version() returns 2; the others keep their
 * behaviour (they are in the patch so the test can see which of them a
 * thread is still inside); the deep chain's functions, for a package of
 * them all. */
#include <unistd.h>

#include "deep_chain.h"

volatile long patched_spins;
volatile long deep_spins;

HP_DEEP_FUNCTIONS

__attribute__((noinline)) int version(void)
{
	return 2;
}

__attribute__((noinline)) void spin(void)
{
	for (;;)
		__atomic_fetch_add(&patched_spins, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) int wait_in(int fd)
{
	char c;
	int n = (int)read(fd, &c, 1);

	__asm__ volatile("" ::: "memory");
	return n;
}

__attribute__((noinline)) int idle(int x)
{
	return x + 1;
}
