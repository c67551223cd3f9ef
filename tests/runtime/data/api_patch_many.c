/* test_api patch of 100 functions: each returns 1000 more. */
#include "api_many.h"

#define HP_MANY_FN(n)                                                                              \
	int hp_api_many_##n(int x);                                                                \
	int hp_api_many_##n(int x)                                                                 \
	{                                                                                          \
		return x + n + 1000;                                                               \
	}
HP_MANY_100
