/* Bounds-checked reading of .hotpatch metadata (see hp_metadata_format.h).
 *
 * The caller hands over the section contents (e.g. from libelf); the reader
 * never copies it, so the buffer must outlive every handle. Every offset is
 * checked before use: a truncated or corrupt section yields an error, never
 * an out-of-bounds read. Used by the plugin tests and by mkpatch.
 */
#ifndef HP_MD_READER_H
#define HP_MD_READER_H

#include "hotpatch/errors.h" /* -HP_EMD_* */
#include "hp_metadata_format.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One decoded record: host-order copies of the header, pointers into the
 * caller's buffer for the rest. */
struct hp_md_record {
	struct hp_md_tu_disk hdr;
	const unsigned char *base; /* record start */
	size_t offset;		   /* of the record in the section */
};

/* Position in a section; zero-initialise, then call hp_md_next(). */
struct hp_md_iter {
	const unsigned char *data;
	size_t size;
	size_t pos;
};

/* Start iterating over the section contents data[0..size). */
void hp_md_iter_init(struct hp_md_iter *it, const void *data, size_t size);

/* Decode the next record into *rec. Returns 1 for a record, 0 at the end,
 * or a negative error (-HP_EMD_*), after which iteration stops. */
int hp_md_next(struct hp_md_iter *it, struct hp_md_record *rec);

/* Decode function i (i < hdr.func_count) into *out (host order). */
int hp_md_func(const struct hp_md_record *rec, uint32_t i, struct hp_md_func_disk *out);

/* Decode variable i (i < hdr.var_count) into *out (host order). */
int hp_md_var(const struct hp_md_record *rec, uint32_t i, struct hp_md_var_disk *out);

/* The string at offset off, or NULL when off is out of range. */
const char *hp_md_str(const struct hp_md_record *rec, uint32_t off);

/* refs[first + i] as a string, or NULL out of range. */
const char *hp_md_ref(const struct hp_md_record *rec, uint32_t first, uint32_t i);

/* argv[i] of the recorded compile command, or NULL out of range. */
const char *hp_md_argv(const struct hp_md_record *rec, uint32_t i);

#ifdef __cplusplus
}
#endif

#endif
