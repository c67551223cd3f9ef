/* Bounds-checked reading of .hotpatch metadata (see hp_metadata_format.h).
 *
 * The one reader of the format: mkpatch builds its model from the records
 * it decodes, and the plugin tests' checker reads them the same way.
 *
 * The caller hands over the section contents (e.g. from libelf); the reader
 * never copies it, so the buffer must outlive every handle. hp_md_next()
 * checks a whole record before handing it out: every offset, count and
 * string of the header, of the reference array and of each function and
 * variable. A truncated or corrupt section yields an error and a reason,
 * never an out-of-bounds read, and on a record handed out every accessor
 * below succeeds for an index under its count.
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

/* Position in a section: hp_md_iter_init(), then hp_md_next(). */
struct hp_md_iter {
	const unsigned char *data;
	size_t size;
	size_t pos;
	/* After an error: what was wrong, a lowercase phrase such as "bad
	 * magic" (static storage), and the offset in the section of the record
	 * it is about. NULL and 0 otherwise. */
	const char *why;
	size_t error_offset;
};

/* Start iterating over the section contents data[0..size). */
void hp_md_iter_init(struct hp_md_iter *it, const void *data, size_t size);

/* Decode and check the next record into *rec. Returns 1 for a record, 0 at
 * the end, or a negative error (-HP_EMD_*), after which it->why says what
 * was wrong and iteration stops. On -HP_EMD_VERSION rec->hdr holds the
 * header as read (its version). Zero padding between records (a linker's)
 * is skipped. */
int hp_md_next(struct hp_md_iter *it, struct hp_md_record *rec);

/* Decode function i (i < hdr.func_count) into *out (host order). */
int hp_md_func(const struct hp_md_record *rec, uint32_t i, struct hp_md_func_disk *out);

/* Decode variable i (i < hdr.var_count) into *out (host order). */
int hp_md_var(const struct hp_md_record *rec, uint32_t i, struct hp_md_var_disk *out);

/* The string at offset off, or NULL when off is out of range. */
const char *hp_md_str(const struct hp_md_record *rec, uint32_t off);

/* refs[first + i] as a string, or NULL out of range. */
const char *hp_md_ref(const struct hp_md_record *rec, uint32_t first, uint32_t i);

/* argv[i] of the recorded compile command, or NULL out of range. Walks
 * the i strings before it: for the whole command use hp_md_argv_all(). */
const char *hp_md_argv(const struct hp_md_record *rec, uint32_t i);

/* The whole recorded compile command: argv[0..hdr.argc) point into the
 * record's string table (argv must have room for hdr.argc pointers).
 * Returns 0, or -HP_EMD_TRUNC when a string lies outside the table. */
int hp_md_argv_all(const struct hp_md_record *rec, const char **argv);

#ifdef __cplusplus
}
#endif

#endif
