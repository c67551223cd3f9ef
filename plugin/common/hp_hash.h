/* Order-sensitive 64-bit hashing shared by the compiler plugins.
 *
 * The plugins feed a canonical walk of a function (opcodes, types, operands)
 * into one hp_hash; the result goes into hp_md_func_disk.hash. Both plugins
 * use the same mixing so the rules, not the arithmetic, define a hash.
 * Not cryptographic: it detects change, it does not resist attackers.
 */
#ifndef HP_HASH_H
#define HP_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_hash {
	uint64_t state;
	uint64_t count;
};

/* Start a hash; seed separates independent uses (function vs initialiser). */
void hp_hash_init(struct hp_hash *h, uint64_t seed);

/* Mix one 64-bit value. */
void hp_hash_u64(struct hp_hash *h, uint64_t v);

/* Mix a byte string, length included (so "ab","c" differs from "a","bc"). */
void hp_hash_bytes(struct hp_hash *h, const void *data, size_t len);

/* Mix a NUL-terminated string (NULL hashes like ""). */
void hp_hash_str(struct hp_hash *h, const char *s);

/* The final value; never 0 (0 means "no value" in the metadata). */
uint64_t hp_hash_final(const struct hp_hash *h);

#ifdef __cplusplus
}
#endif

#endif
