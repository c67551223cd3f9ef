/* Reading and writing hotpatch packages (format: hp_package_format.h).
 *
 * The reader is part of the runtime (libc, and libsodium for signatures). The writer is used by
 * mkpatch and by the tests that build packages from small C sources; it
 * embeds the manifest into an already linked shared object as the
 * non-allocated section HP_PKG_MANIFEST_SECTION and seals the checksum.
 */
#ifndef HP_PACKAGE_H
#define HP_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hotpatch/errors.h" /* the readers return -HP_E* */
#include "hp_package_format.h"

/* FNV-1a 64 over len bytes: the hash of expected target bytes and the
 * package checksum (computed with the header's checksum field as zero). */
uint64_t hp_pkg_checksum(const void *data, size_t len);

/* ---- keys (Ed25519, through libsodium) ---- */

#define HP_PKG_SECRET_KEY_SIZE 64 /* libsodium's seed + public key form */
#define HP_PKG_KEY_ID_LEN 25	  /* "ed25519:" + 16 hex digits + NUL */

/* Makes a key pair and writes PREFIX.key (the secret, mode 0600, created
 * only if absent) and PREFIX.pub. Returns 0 or a negative errno with a
 * one-line reason in err; on failure neither file is left behind. */
int hp_pkg_keygen(const char *prefix, char *err, size_t errlen);

/* Reads a secret key file written by hp_pkg_keygen(). It must be a regular
 * file of the caller's euid that group and others cannot access. */
int hp_pkg_key_read_secret(const char *path, uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE], char *err,
			   size_t errlen);

/* Reads a public key file (PREFIX.pub). */
int hp_pkg_key_read_public(const char *path, uint8_t public_key[HP_PKG_PUBLIC_KEY_SIZE], char *err,
			   size_t errlen);

/* The short name of a public key shown to people: "ed25519:" and the
 * first 8 bytes in hex. */
void hp_pkg_key_id(const uint8_t public_key[HP_PKG_PUBLIC_KEY_SIZE], char id[HP_PKG_KEY_ID_LEN]);

/* The public keys a verifier trusts. A plain struct so the runtime can
 * keep one in static memory, loaded once at start. */
#define HP_PKG_KEYRING_MAX 64
struct hp_pkg_keyring {
	size_t count;
	uint8_t keys[HP_PKG_KEYRING_MAX][HP_PKG_PUBLIC_KEY_SIZE];
};

/* Adds every file of DIR whose name ends in .pub to kr. DIR and each such
 * file must belong to root or the caller's euid and be writable by no one
 * else (whoever can add a key can run code in the verifier's processes);
 * a file that fails, or does not parse, fails the whole load. Other names
 * are ignored. */
int hp_pkg_keyring_load_dir(struct hp_pkg_keyring *kr, const char *dir, char *err, size_t errlen);

/* Adds one public key file to kr (no ownership rule: for offline checks). */
int hp_pkg_keyring_add_file(struct hp_pkg_keyring *kr, const char *path, char *err, size_t errlen);

/* 0 when m was signed by a key of kr; else -HP_EUNTRUSTED with the
 * reason (unsigned, or which key signed it) in err. */
struct hp_manifest;
int hp_pkg_keyring_check(const struct hp_pkg_keyring *kr, const struct hp_manifest *m, char *err,
			 size_t errlen);

/* ---- writer ---- */

struct hp_pkg_builder;

struct hp_pkg_func_spec {
	const char *name;	     /* target symbol, for messages */
	const char *tu;		     /* its source file, for messages */
	uint64_t target_offset;	     /* st_value in the old image */
	uint64_t replacement_offset; /* st_value in the linked package */
	const void *expected_bytes;  /* the target's bytes as built ... */
	uint32_t expected_size;	     /* ... and how many (typically st_size) */
	uint32_t entry_offset;	     /* 0, or 4 after endbr64 */
	uint32_t flags;		     /* HP_PKG_FUNC_* */
};

struct hp_pkg_proxy_spec {
	const char *name;	/* target symbol, for messages */
	const char *tu;		/* its source file, for messages */
	uint64_t slot_offset;	/* st_value of the slot in the package */
	uint64_t target_offset; /* st_value of the target in the old image */
};

/* Returns NULL when out of memory. */
struct hp_pkg_builder *hp_pkg_builder_new(void);
void hp_pkg_builder_free(struct hp_pkg_builder *b);

int hp_pkg_builder_set_target(struct hp_pkg_builder *b, const uint8_t *build_id,
			      size_t build_id_size, const char *target_name);
int hp_pkg_builder_set_name(struct hp_pkg_builder *b, const char *name, const char *description);
int hp_pkg_builder_add_func(struct hp_pkg_builder *b, const struct hp_pkg_func_spec *f);
int hp_pkg_builder_add_proxy(struct hp_pkg_builder *b, const struct hp_pkg_proxy_spec *p);
/* A patch hook: kind HP_PKG_HOOK_*, the function name (for messages) and
 * its st_value in the linked package. */
int hp_pkg_builder_add_hook(struct hp_pkg_builder *b, uint32_t kind, const char *name,
			    uint64_t offset);

/* Signs the package hp_pkg_builder_write() writes with this secret key
 * (hp_pkg_key_read_secret()); the key is copied and wiped on free. */
int hp_pkg_builder_set_signing_key(struct hp_pkg_builder *b,
				   const uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE]);

/* Copies the linked shared object at so_path to out_path with the manifest
 * embedded and the checksum sealed. Returns 0 or a negative errno. */
int hp_pkg_builder_write(struct hp_pkg_builder *b, const char *so_path, const char *out_path);

/* Human-readable reason for the last failure of hp_pkg_builder_write() or
 * of an add/set call ("" when none). Valid until the next call on b. */
const char *hp_pkg_builder_error(const struct hp_pkg_builder *b);

/* ---- reader ----
 *
 * The in-memory manifest the runtime works from, decoded and validated;
 * separate from the on-disk structs so the disk format can evolve. Every
 * string is non-NULL and NUL-terminated (possibly ""). */

struct hp_manifest_func {
	const char *name;
	const char *tu;
	uint64_t target_offset;
	uint64_t replacement_offset;
	uint64_t expected_hash;
	uint32_t expected_size;
	uint32_t entry_offset;
	uint32_t flags; /* HP_PKG_FUNC_* */
};

struct hp_manifest_proxy {
	const char *name;
	const char *tu;
	uint64_t slot_offset;
	uint64_t target_offset;
};

struct hp_manifest_hook {
	const char *name;
	uint64_t offset; /* in the package */
	uint32_t kind;	 /* HP_PKG_HOOK_* */
};

struct hp_manifest {
	const char *name;
	const char *target_name;
	const char *description;
	uint8_t build_id[HP_PKG_BUILD_ID_MAX];
	size_t build_id_size;
	uint64_t created;
	uint64_t package_size;
	uint32_t flags; /* HP_PKG_* */
	/* NULL when unsigned; else the public key whose signature over the
	 * package the reader verified (trusted or not: hp_pkg_keyring_check) */
	const uint8_t *signer;
	size_t func_count;
	struct hp_manifest_func *funcs;
	size_t proxy_count;
	struct hp_manifest_proxy *proxies;
	size_t hook_count;
	struct hp_manifest_hook *hooks;
};

/* "pre-apply", "post-apply", "pre-revert", "post-revert"; "?" otherwise. */
const char *hp_pkg_hook_kind_name(uint32_t kind);

/* Reads and validates the package open on fd (read with pread, so the file
 * offset is left alone), in this order: file size, ELF section headers and
 * the manifest section, manifest size, magic, version, header size,
 * package size, checksum, then every array and string offset, and the
 * signature when the package is signed. On success
 * *out owns the decoded manifest (free with hp_manifest_free) and 0 is
 * returned; on failure a negative errno or -HP_E* code, and a one-line
 * reason in err (when err is not NULL). */
int hp_pkg_read_fd(int fd, struct hp_manifest **out, char *err, size_t errlen);

/* Reads the whole package file open on fd (pread; a regular file of a
 * package's size range) into *data (malloc'ed, *size bytes). Returns 0 or
 * a negative errno / -HP_E* code with a one-line reason in err. */
int hp_pkg_read_file(int fd, uint8_t **data, size_t *size, char *err, size_t errlen);

/* Same, from a buffer holding the whole package file. */
int hp_pkg_read_mem(const void *data, size_t size, struct hp_manifest **out, char *err,
		    size_t errlen);

/* hp_pkg_read_mem() for bytes identical to a package this process read
 * successfully before (the runtime compares them whole): the structure is
 * checked as always, the checksum and the signature's cryptography are
 * not repeated. */
int hp_pkg_read_mem_known(const void *data, size_t size, struct hp_manifest **out, char *err,
			  size_t errlen);

void hp_manifest_free(struct hp_manifest *m);

#endif
