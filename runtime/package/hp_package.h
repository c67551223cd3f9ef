/* Reading and writing hotpatch packages (format: hp_package_format.h).
 *
 * The reader is part of the runtime (libc only). The writer is used by
 * mkpatch and by the tests that build packages from small C sources; it
 * embeds the manifest into an already linked shared object as the
 * non-allocated section HP_PKG_MANIFEST_SECTION and seals the checksum.
 */
#ifndef HP_PACKAGE_H
#define HP_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hp_package_format.h"

/* FNV-1a 64 over len bytes: the hash of expected target bytes and the
 * package checksum (computed with the header's checksum field as zero). */
uint64_t hp_pkg_checksum(const void *data, size_t len);

/* ---- writer ---- */

struct hp_pkg_builder;

struct hp_pkg_func_spec {
	const char *name;            /* target symbol, for messages */
	const char *tu;              /* its source file, for messages */
	uint64_t target_offset;      /* st_value in the old image */
	uint64_t replacement_offset; /* st_value in the linked package */
	const void *expected_bytes;  /* the target's bytes as built ... */
	uint32_t expected_size;      /* ... and how many (typically st_size) */
	uint32_t entry_offset;       /* 0, or 4 after endbr64 */
	uint32_t flags;              /* HP_PKG_FUNC_* */
};

struct hp_pkg_proxy_spec {
	const char *name;       /* target symbol, for messages */
	const char *tu;         /* its source file, for messages */
	uint64_t slot_offset;   /* st_value of the slot in the package */
	uint64_t target_offset; /* st_value of the target in the old image */
};

/* Returns NULL when out of memory. */
struct hp_pkg_builder *hp_pkg_builder_new(void);
void hp_pkg_builder_free(struct hp_pkg_builder *b);

int hp_pkg_builder_set_target(struct hp_pkg_builder *b, const uint8_t *build_id,
			      size_t build_id_size, const char *target_name);
int hp_pkg_builder_set_name(struct hp_pkg_builder *b, const char *name,
			    const char *description);
int hp_pkg_builder_add_func(struct hp_pkg_builder *b, const struct hp_pkg_func_spec *f);
int hp_pkg_builder_add_proxy(struct hp_pkg_builder *b, const struct hp_pkg_proxy_spec *p);

/* Copies the linked shared object at so_path to out_path with the manifest
 * embedded and the checksum sealed. Returns 0 or a negative errno. */
int hp_pkg_builder_write(struct hp_pkg_builder *b, const char *so_path, const char *out_path);

#endif
