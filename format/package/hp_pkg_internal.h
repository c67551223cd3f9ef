/* What the package reader and writer share with each other (not exported). */
#ifndef HP_PKG_INTERNAL_H
#define HP_PKG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define HP_FNV_OFFSET 0xcbf29ce484222325ull

/* FNV-1a 64 continued from h over len bytes. */
uint64_t hp_fnv1a_update(uint64_t h, const void *data, size_t len);

/* Checksum of a whole package file whose checksum field sits at csum_at:
 * the 8 bytes there count as zero. */
uint64_t hp_pkg_file_checksum(const uint8_t *file, size_t size, size_t csum_at);

/* Locates the section called name in an ELF64 little-endian image of size
 * bytes, checking every header, table and name against the file bounds.
 * On success *off and *len are the section's file range. Returns 0, or
 * -HP_EFORMAT with a reason in err. */
int hp_elf_find_section(const uint8_t *file, size_t size, const char *name, uint64_t *off,
			uint64_t *len, char *err, size_t errlen);

/* Signs a whole package file in place: writes the signature record (key,
 * algorithm, signature) at sig_at, signing the file with the checksum at
 * csum_at and the signature bytes taken as zero. The checksum is sealed
 * afterwards, by the caller. Returns 0 or a negative errno. */
int hp_pkg_sign_file(uint8_t *file, size_t size, size_t csum_at, size_t sig_at,
		     const uint8_t *secret_key);

/* Checks the signature record of sig_size bytes at sig_at the same way;
 * on success copies its public key to signer. Returns 0, -HP_EFORMAT
 * or -HP_ESIGNATURE (reason in err), or a negative errno. */
int hp_pkg_verify_file(const uint8_t *file, size_t size, size_t csum_at, size_t sig_at,
		       uint32_t sig_size, uint8_t *signer, char *err, size_t errlen);

/* snprintf into err when err is not NULL. */
void hp_pkg_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
