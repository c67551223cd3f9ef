#include "hp_hash.h"

#include <string.h>

/* A 64-bit finaliser with full avalanche: every input bit flips about half
 * of the output bits, so values that differ in one bit separate well. */
static uint64_t hp_avalanche(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

void hp_hash_init(struct hp_hash *h, uint64_t seed)
{
	h->state = hp_avalanche(seed ^ 0x6a09e667f3bcc908ull);
	h->count = 0;
}

void hp_hash_u64(struct hp_hash *h, uint64_t v)
{
	/* Rotating before adding keeps the hash order-sensitive. */
	uint64_t r = (h->state << 23) | (h->state >> 41);
	h->state = hp_avalanche(r ^ (v + 0x9e3779b97f4a7c15ull * ++h->count));
}

void hp_hash_bytes(struct hp_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w;

	hp_hash_u64(h, (uint64_t)len);
	while (len >= 8) {
		memcpy(&w, p, 8);
		hp_hash_u64(h, w);
		p += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		hp_hash_u64(h, w);
	}
}

void hp_hash_str(struct hp_hash *h, const char *s)
{
	hp_hash_bytes(h, s ? s : "", s ? strlen(s) : 0);
}

uint64_t hp_hash_final(const struct hp_hash *h)
{
	uint64_t v = hp_avalanche(h->state ^ h->count);

	return v ? v : 1;
}
