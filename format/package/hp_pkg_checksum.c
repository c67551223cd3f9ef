/* FNV-1a 64: the package checksum and the hash of expected target bytes.
 * Not cryptographic: it catches damage and mismatched builds; authenticity
 * is the job of the signature the format leaves room for. */
#include "hp_package.h"
#include "hp_pkg_internal.h"

#define HP_FNV_PRIME 0x100000001b3ull

uint64_t hp_fnv1a_update(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= HP_FNV_PRIME;
	}
	return h;
}

uint64_t hp_pkg_checksum(const void *data, size_t len)
{
	return hp_fnv1a_update(HP_FNV_OFFSET, data, len);
}

uint64_t hp_pkg_file_checksum(const uint8_t *file, size_t size, size_t csum_at)
{
	static const uint8_t zero[8];
	uint64_t h = hp_fnv1a_update(HP_FNV_OFFSET, file, csum_at);

	h = hp_fnv1a_update(h, zero, sizeof(zero));
	return hp_fnv1a_update(h, file + csum_at + 8, size - csum_at - 8);
}
