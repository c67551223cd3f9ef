/* 100 functions hp_api_many_N(x) = x + N (+ BUMP in the patch). */
/* A macro table that clang-format does not lay out stably: */
/* clang-format off */
#define HP_MANY_1(n) HP_MANY_FN(n)
#define HP_MANY_10(n)                                                                              \
	HP_MANY_1(n##0)                                                                            \
	HP_MANY_1(n##1) HP_MANY_1(n##2) HP_MANY_1(n##3) HP_MANY_1(n##4) HP_MANY_1(n##5)            \
		HP_MANY_1(n##6) HP_MANY_1(n##7) HP_MANY_1(n##8) HP_MANY_1(n##9)
#define HP_MANY_100                                                                                \
	HP_MANY_10(1)                                                                              \
	HP_MANY_10(2) HP_MANY_10(3) HP_MANY_10(4) HP_MANY_10(5) HP_MANY_10(6) HP_MANY_10(7)        \
		HP_MANY_10(8) HP_MANY_10(9) HP_MANY_10(10)
