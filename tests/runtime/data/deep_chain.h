/* A call chain deeper than one look at running threads lists for a
 * thread it samples by signal (hp_active.c: 32 old functions): deep_0()
 * calls deep_1() ... deep_39() calls deep_40(), which spins. It could
 * return (were deep_spins to wrap), so no link is a call of a noreturn
 * function, whose return address would lie past its caller's end.
 * Included by active_target.c and patch_active.c, each defining
 * deep_spins. */
#ifndef HP_TEST_DEEP_CHAIN_H
#define HP_TEST_DEEP_CHAIN_H

extern volatile long deep_spins;

/* clang-format off */
#define HP_DEEP_LINKS(X) \
	X(0, 1) \
	X(1, 2) \
	X(2, 3) \
	X(3, 4) \
	X(4, 5) \
	X(5, 6) \
	X(6, 7) \
	X(7, 8) \
	X(8, 9) \
	X(9, 10) \
	X(10, 11) \
	X(11, 12) \
	X(12, 13) \
	X(13, 14) \
	X(14, 15) \
	X(15, 16) \
	X(16, 17) \
	X(17, 18) \
	X(18, 19) \
	X(19, 20) \
	X(20, 21) \
	X(21, 22) \
	X(22, 23) \
	X(23, 24) \
	X(24, 25) \
	X(25, 26) \
	X(26, 27) \
	X(27, 28) \
	X(28, 29) \
	X(29, 30) \
	X(30, 31) \
	X(31, 32) \
	X(32, 33) \
	X(33, 34) \
	X(34, 35) \
	X(35, 36) \
	X(36, 37) \
	X(37, 38) \
	X(38, 39) \
	X(39, 40)
/* clang-format on */

#define HP_DEEP_DECLARE(n, next) int deep_##n(int d);
HP_DEEP_LINKS(HP_DEEP_DECLARE)
int deep_40(int d);

/* Not a tail call: each link's frame, with its return address, stays. */
#define HP_DEEP_DEFINE(n, next)                                                                    \
	__attribute__((noinline)) int deep_##n(int d)                                              \
	{                                                                                          \
		int r = deep_##next(d + 1);                                                        \
		__asm__ volatile("" ::: "memory");                                                 \
		return r + 1;                                                                      \
	}
#define HP_DEEP_FUNCTIONS                                                                          \
	HP_DEEP_LINKS(HP_DEEP_DEFINE)                                                              \
	__attribute__((noinline)) int deep_40(int d)                                               \
	{                                                                                          \
		while (deep_spins >= 0)                                                            \
			__atomic_fetch_add(&deep_spins, d, __ATOMIC_RELAXED);                      \
		return d;                                                                          \
	}

#endif
