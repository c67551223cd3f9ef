/* hp_hash: the mixing both plugins feed their walks into. A change of its
 * arithmetic changes every recorded hash, so the values are pinned here:
 * such a change needs HP_MD_HASH_RULES bumped, else OLD and NEW builds made
 * by different plugin versions compare as "everything changed". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hp_hash.h"

static uint64_t hash_u64s(uint64_t seed, const uint64_t *v, size_t n)
{
	struct hp_hash h;

	hp_hash_init(&h, seed);
	for (size_t i = 0; i < n; i++)
		hp_hash_u64(&h, v[i]);
	return hp_hash_final(&h);
}

static uint64_t hash_strs(const char *a, const char *b)
{
	struct hp_hash h;

	hp_hash_init(&h, 0);
	hp_hash_str(&h, a);
	hp_hash_str(&h, b);
	return hp_hash_final(&h);
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	struct hp_hash h;

	hp_hash_init(&h, 0);
	hp_hash_bytes(&h, p, n);
	return hp_hash_final(&h);
}

/* Computed with the mixing as it is (x86-64: hp_hash_bytes reads host-order
 * words). */
#define PINNED_EMPTY 0x5e7c0293a9a0e84eull
#define PINNED_123 0x63395e961e89acdeull
#define PINNED_STRS 0x7737ab90b9a2fb87ull

static void test_values_pinned(void **state)
{
	(void)state;
	static const uint64_t v[] = {1, 2, 3};

	assert_int_equal(hash_u64s(0, NULL, 0), PINNED_EMPTY);
	assert_int_equal(hash_u64s(0, v, 3), PINNED_123);
	assert_int_equal(hash_strs("main", "printf"), PINNED_STRS);
}

static void test_same_input_same_hash(void **state)
{
	(void)state;
	static const uint64_t v[] = {42, 0, UINT64_MAX};

	assert_int_equal(hash_u64s(7, v, 3), hash_u64s(7, v, 3));
	assert_int_equal(hash_strs("a", "b"), hash_strs("a", "b"));
}

static void test_order_and_seed_matter(void **state)
{
	(void)state;
	static const uint64_t ab[] = {1, 2}, ba[] = {2, 1}, a0[] = {1, 0}, a[] = {1};

	assert_int_not_equal(hash_u64s(0, ab, 2), hash_u64s(0, ba, 2));
	assert_int_not_equal(hash_u64s(0, ab, 2), hash_u64s(1, ab, 2));
	/* a trailing zero is still a value */
	assert_int_not_equal(hash_u64s(0, a0, 2), hash_u64s(0, a, 1));
}

static void test_lengths_separate_strings(void **state)
{
	(void)state;
	assert_int_not_equal(hash_strs("ab", "c"), hash_strs("a", "bc"));
	assert_int_not_equal(hash_strs("", "abc"), hash_strs("abc", ""));
	/* NULL is the empty string */
	assert_int_equal(hash_strs(NULL, "x"), hash_strs("", "x"));
}

static void test_every_byte_counts(void **state)
{
	(void)state;
	/* words of 8 and the tail after them */
	unsigned char buf[19];

	memset(buf, 'a', sizeof(buf));
	uint64_t whole = hash_bytes(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 1;
		assert_int_not_equal(hash_bytes(buf, sizeof(buf)), whole);
		buf[i] ^= 1;
	}
	/* a zero byte more is a different length, not the same word */
	unsigned char z[9] = {0};
	assert_int_not_equal(hash_bytes(z, 8), hash_bytes(z, 9));
	assert_int_not_equal(hash_bytes(z, 0), hash_bytes(z, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_pinned),
		cmocka_unit_test(test_same_input_same_hash),
		cmocka_unit_test(test_order_and_seed_matter),
		cmocka_unit_test(test_lengths_separate_strings),
		cmocka_unit_test(test_every_byte_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
