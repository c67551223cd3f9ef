/* Shadow variables: what alloc, get, free and free_all promise, and lock-
 * free lookups racing with allocation and freeing on other threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hotpatch/hotpatch.h"

enum { ID_LEN = 1, ID_NAME = 2 };

static void test_alloc_get_free(void **state)
{
	static int obj_a, obj_b; /* only their addresses matter */

	assert_non_null(hp_shadow_get); /* weak: the runtime is linked */
	unsigned *len = hp_shadow_alloc(&obj_a, ID_LEN, sizeof(*len));

	assert_non_null(len);
	assert_int_equal(*len, 0); /* zeroed */
	*len = 70000;
	assert_ptr_equal(hp_shadow_get(&obj_a, ID_LEN), len);
	assert_null(hp_shadow_get(&obj_a, ID_NAME)); /* another id */
	assert_null(hp_shadow_get(&obj_b, ID_LEN));  /* another object */
	errno = 0;
	assert_null(hp_shadow_alloc(&obj_a, ID_LEN, sizeof(*len)));
	assert_int_equal(errno, EEXIST);
	assert_ptr_equal(hp_shadow_get_or_alloc(&obj_a, ID_LEN, sizeof(*len)), len);
	assert_int_equal(*(unsigned *)hp_shadow_get(&obj_a, ID_LEN), 70000);
	errno = 0;
	assert_null(hp_shadow_alloc(&obj_b, ID_LEN, 0));
	assert_int_equal(errno, EINVAL);
	hp_shadow_free(&obj_a, ID_LEN);
	assert_null(hp_shadow_get(&obj_a, ID_LEN));
	hp_shadow_free(&obj_a, ID_LEN); /* freeing nothing is fine */
	len = hp_shadow_get_or_alloc(&obj_a, ID_LEN, sizeof(*len));
	assert_non_null(len);
	assert_int_equal(*len, 0); /* a new one, not the old data */
	hp_shadow_free(&obj_a, ID_LEN);
}

static void test_free_all(void **state)
{
	static char objs[5000];

	for (size_t i = 0; i < sizeof(objs); i++) {
		assert_non_null(hp_shadow_alloc(&objs[i], ID_LEN, 8));
		if (i % 2)
			assert_non_null(hp_shadow_alloc(&objs[i], ID_NAME, 16));
	}
	assert_int_equal(hp_shadow_free_all(ID_LEN), sizeof(objs));
	for (size_t i = 0; i < sizeof(objs); i++) {
		assert_null(hp_shadow_get(&objs[i], ID_LEN));
		if (i % 2)
			assert_non_null(hp_shadow_get(&objs[i], ID_NAME));
	}
	assert_int_equal(hp_shadow_free_all(ID_NAME), sizeof(objs) / 2);
	assert_int_equal(hp_shadow_free_all(ID_NAME), 0);
}

/* Lookups racing with writers. Keys of the first half are allocated once
 * (each holding its own address as a tag) and never freed: a reader must
 * always find exactly that. Writers keep allocating and freeing keys of
 * the second half, so nodes are unlinked and reused across buckets under
 * the readers' feet; readers look those up too (without touching the
 * data, which may be freed by then: that race is the caller's). */
#define KEYS 1024
#define STABLE (KEYS / 2)
#define ROUNDS 200000
static char keys[KEYS];
static int stop;
static long bad, missing;

static void *writer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		size_t k = STABLE + (seed = seed * 1103515245u + 12345u) % (KEYS - STABLE);

		if (r % 2)
			hp_shadow_free(&keys[k], ID_LEN);
		else
			hp_shadow_get_or_alloc(&keys[k], ID_LEN, 8 + r % 64);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		for (size_t k = 0; k < KEYS; k++) {
			uintptr_t *tag = hp_shadow_get(&keys[k], ID_LEN);

			if (k >= STABLE)
				continue;
			if (!tag)
				__atomic_fetch_add(&missing, 1, __ATOMIC_RELAXED);
			else if (*tag != (uintptr_t)&keys[k])
				__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
		}
	return NULL;
}

static void test_concurrent(void **state)
{
	pthread_t w[2], r[2];

	for (size_t k = 0; k < STABLE; k++) {
		uintptr_t *tag = hp_shadow_alloc(&keys[k], ID_LEN, sizeof(*tag));

		assert_non_null(tag);
		*tag = (uintptr_t)&keys[k];
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
		assert_int_equal(pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)(i + 1)),
				 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	assert_int_equal(missing, 0);
	assert_int_equal(bad, 0);
	assert_int_equal(hp_shadow_free_all(ID_LEN) >= STABLE, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_get_free),
		cmocka_unit_test(test_free_all),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
