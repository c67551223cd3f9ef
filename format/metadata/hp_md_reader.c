/* The one reader of .hotpatch records (hp_md_reader.h): explicit
 * little-endian decoding, every field checked before it is used. */
#include "hp_md_reader.h"

#include <errno.h>
#include <string.h>

static uint16_t hp_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t hp_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t hp_get64(const unsigned char *p)
{
	return (uint64_t)hp_get32(p) | (uint64_t)hp_get32(p + 4) << 32;
}

void hp_md_iter_init(struct hp_md_iter *it, const void *data, size_t size)
{
	it->data = data;
	it->size = data ? size : 0;
	it->pos = 0;
	it->why = NULL;
	it->error_offset = 0;
}

/* Does [off, off + count * elem) fit in a record of size bytes? */
static int hp_fits(uint64_t off, uint64_t count, uint64_t elem, uint64_t size)
{
	return off <= size && count * elem <= size - off;
}

static void hp_read_header(const unsigned char *p, struct hp_md_tu_disk *h)
{
	memcpy(h->magic, p, 4);
	h->version = hp_get16(p + 4);
	h->header_size = hp_get16(p + 6);
	h->record_size = hp_get32(p + 8);
	h->flags = hp_get32(p + 12);
	h->compiler = hp_get32(p + 16);
	h->func_count = hp_get32(p + 20);
	h->func_offset = hp_get32(p + 24);
	h->var_count = hp_get32(p + 28);
	h->var_offset = hp_get32(p + 32);
	h->ref_count = hp_get32(p + 36);
	h->ref_offset = hp_get32(p + 40);
	h->strtab_offset = hp_get32(p + 44);
	h->strtab_size = hp_get32(p + 48);
	h->source = hp_get32(p + 52);
	h->cwd = hp_get32(p + 56);
	h->argc = hp_get32(p + 60);
	h->argv = hp_get32(p + 64);
	h->output = hp_get32(p + 68);
	h->compiler_version = hp_get32(p + 72);
	h->plugin_version = hp_get32(p + 76);
	h->hash_rules = hp_get32(p + 80);
	h->reserved = hp_get32(p + 84);
}

/* A check that failed: its error and the reason handed to the caller. */
static int hp_reject(const char **why, int err, const char *what)
{
	*why = what;
	return err;
}

/* The checks of the header, in the order mkpatch has always made them
 * (its messages name the first that fails). */
static int hp_check_header(const struct hp_md_tu_disk *h, size_t avail, const char **why)
{
	uint64_t size = h->record_size;

	if (h->header_size < sizeof(*h) || size < h->header_size || size % HP_MD_ALIGN)
		return hp_reject(why, -HP_EMD_MALFORMED, "bad header or record size");
	if (size > avail)
		return hp_reject(why, -HP_EMD_TRUNC, "bad header or record size");
	if (!h->strtab_size || !hp_fits(h->strtab_offset, h->strtab_size, 1, size))
		return hp_reject(why, -HP_EMD_TRUNC, "string table out of range");
	return 0;
}

/* The string table must start with "" and end with a NUL: then every
 * offset inside it is a terminated string. */
static int hp_check_strtab(const struct hp_md_record *rec, const char **why)
{
	const unsigned char *t = rec->base + rec->hdr.strtab_offset;

	if (t[0] || t[rec->hdr.strtab_size - 1])
		return hp_reject(why, -HP_EMD_MALFORMED, "string table not terminated");
	return 0;
}

static int hp_check_arrays(const struct hp_md_tu_disk *h, const char **why)
{
	if (!hp_fits(h->func_offset, h->func_count, sizeof(struct hp_md_func_disk),
		     h->record_size) ||
	    !hp_fits(h->var_offset, h->var_count, sizeof(struct hp_md_var_disk), h->record_size))
		return hp_reject(why, -HP_EMD_TRUNC, "function or variable array out of range");
	/* The writer aligns the arrays, but decoding is byte by byte, so an
	 * unaligned one reads as safely: it is accepted, as mkpatch always did. */
	return 0;
}

/* Every string offset in offs[0..n) lies in the table. */
static int hp_check_strs(const struct hp_md_record *rec, const uint32_t *offs, size_t n,
			 const char **why)
{
	for (size_t i = 0; i < n; i++)
		if (!hp_md_str(rec, offs[i]))
			return hp_reject(why, -HP_EMD_TRUNC, "string offset out of range");
	return 0;
}

/* argc consecutive strings from hdr.argv; stored into argv unless NULL. */
static int hp_walk_argv(const struct hp_md_record *rec, const char **argv)
{
	uint32_t off = rec->hdr.argv;

	for (uint32_t i = 0; i < rec->hdr.argc; i++) {
		const char *s = hp_md_str(rec, off);

		if (!s)
			return -HP_EMD_TRUNC;
		if (argv)
			argv[i] = s;
		/* s ends inside the table, so off stays below its size */
		off += (uint32_t)strlen(s) + 1;
	}
	return 0;
}

static int hp_check_tu(const struct hp_md_record *rec, const char **why)
{
	const struct hp_md_tu_disk *h = &rec->hdr;
	const uint32_t strs[] = {h->source, h->cwd, h->output, h->compiler_version,
				 h->plugin_version};
	int err = hp_check_strs(rec, strs, sizeof(strs) / sizeof(strs[0]), why);

	if (err)
		return err;
	if (!*hp_md_str(rec, h->source))
		return hp_reject(why, -HP_EMD_MALFORMED, "translation unit without a source path");
	/* each argument takes at least its NUL */
	if (h->argc > h->strtab_size)
		return hp_reject(why, -HP_EMD_TRUNC, "argc out of range");
	if (hp_walk_argv(rec, NULL))
		return hp_reject(why, -HP_EMD_TRUNC, "string offset out of range");
	return 0;
}

static int hp_check_refs(const struct hp_md_record *rec, const char **why)
{
	const struct hp_md_tu_disk *h = &rec->hdr;

	if (!hp_fits(h->ref_offset, h->ref_count, 4, h->record_size))
		return hp_reject(why, -HP_EMD_TRUNC, "reference array out of range");
	for (uint32_t i = 0; i < h->ref_count; i++)
		if (!hp_md_ref(rec, 0, i))
			return hp_reject(why, -HP_EMD_TRUNC, "string offset out of range");
	return 0;
}

static void hp_read_func(const unsigned char *p, struct hp_md_func_disk *out)
{
	out->address = hp_get64(p);
	out->hash = hp_get64(p + 8);
	out->name = hp_get32(p + 16);
	out->flags = hp_get32(p + 20);
	out->entry_offset = hp_get32(p + 24);
	out->origin = hp_get32(p + 28);
	out->not_patchable_reason = hp_get32(p + 32);
	out->inlined_first = hp_get32(p + 36);
	out->inlined_count = hp_get32(p + 40);
	out->calls_first = hp_get32(p + 44);
	out->calls_count = hp_get32(p + 48);
	out->vars_first = hp_get32(p + 52);
	out->vars_count = hp_get32(p + 56);
	out->line_hash = hp_get32(p + 60);
}

static int hp_func_slices_fit(const struct hp_md_record *rec, const struct hp_md_func_disk *f)
{
	uint32_t n = rec->hdr.ref_count;

	return hp_fits(f->inlined_first, f->inlined_count, 1, n) &&
	       hp_fits(f->calls_first, f->calls_count, 1, n) &&
	       hp_fits(f->vars_first, f->vars_count, 1, n);
}

static int hp_check_func(const struct hp_md_record *rec, uint32_t i, const char **why)
{
	struct hp_md_func_disk f;

	hp_read_func(rec->base + rec->hdr.func_offset + (size_t)i * sizeof(f), &f);
	const uint32_t strs[] = {f.name, f.origin, f.not_patchable_reason};
	int err = hp_check_strs(rec, strs, sizeof(strs) / sizeof(strs[0]), why);

	if (err)
		return err;
	if (!hp_func_slices_fit(rec, &f))
		return hp_reject(why, -HP_EMD_TRUNC, "reference list out of range");
	if (!*hp_md_str(rec, f.name))
		return hp_reject(why, -HP_EMD_MALFORMED, "function without a name");
	/* 0, or 4 after endbr64: anything past a few bytes is garbage */
	if (f.entry_offset > 16)
		return hp_reject(why, -HP_EMD_MALFORMED, "implausible entry offset");
	return 0;
}

static void hp_read_var(const unsigned char *p, struct hp_md_var_disk *out)
{
	out->address = hp_get64(p);
	out->size = hp_get64(p + 8);
	out->init_hash = hp_get64(p + 16);
	out->name = hp_get32(p + 24);
	out->flags = hp_get32(p + 28);
	out->owner = hp_get32(p + 32);
	out->source_name = hp_get32(p + 36);
}

static int hp_check_var(const struct hp_md_record *rec, uint32_t i, const char **why)
{
	struct hp_md_var_disk v;

	hp_read_var(rec->base + rec->hdr.var_offset + (size_t)i * sizeof(v), &v);
	const uint32_t strs[] = {v.name, v.owner, v.source_name};
	int err = hp_check_strs(rec, strs, sizeof(strs) / sizeof(strs[0]), why);

	if (err)
		return err;
	if (!*hp_md_str(rec, v.name))
		return hp_reject(why, -HP_EMD_MALFORMED, "variable without a name");
	return 0;
}

/* Everything past the header, once the record's size is known to fit. */
static int hp_check_body(const struct hp_md_record *rec, const char **why)
{
	int err = hp_check_strtab(rec, why);

	if (!err)
		err = hp_check_arrays(&rec->hdr, why);
	if (!err)
		err = hp_check_tu(rec, why);
	if (!err)
		err = hp_check_refs(rec, why);
	for (uint32_t i = 0; !err && i < rec->hdr.func_count; i++)
		err = hp_check_func(rec, i, why);
	for (uint32_t i = 0; !err && i < rec->hdr.var_count; i++)
		err = hp_check_var(rec, i, why);
	return err;
}

/* Read and check the record at it->pos into *rec. */
static int hp_read_record(const struct hp_md_iter *it, struct hp_md_record *rec, const char **why)
{
	const unsigned char *p = it->data + it->pos;
	int err;

	if (it->size - it->pos < sizeof(struct hp_md_tu_disk))
		return hp_reject(why, -HP_EMD_TRUNC, "truncated header");
	if (memcmp(p, HP_MD_MAGIC, 4))
		return hp_reject(why, -HP_EMD_MAGIC, "bad magic");
	hp_read_header(p, &rec->hdr);
	if (rec->hdr.version != HP_MD_VERSION)
		return hp_reject(why, -HP_EMD_VERSION, "version not supported");
	err = hp_check_header(&rec->hdr, it->size - it->pos, why);
	if (err)
		return err;
	rec->base = p;
	rec->offset = it->pos;
	return hp_check_body(rec, why);
}

int hp_md_next(struct hp_md_iter *it, struct hp_md_record *rec)
{
	int err;

	it->why = NULL;
	it->error_offset = 0;
	/* the linker may pad between input sections with zeros */
	while (it->pos + 8 <= it->size && !hp_get64(it->data + it->pos))
		it->pos += 8;
	if (it->pos >= it->size)
		return 0;
	err = hp_read_record(it, rec, &it->why);
	if (err) {
		it->error_offset = it->pos;
		it->pos = it->size;
		return err;
	}
	it->pos += rec->hdr.record_size;
	return 1;
}

int hp_md_func(const struct hp_md_record *rec, uint32_t i, struct hp_md_func_disk *out)
{
	if (i >= rec->hdr.func_count)
		return -ERANGE;
	hp_read_func(rec->base + rec->hdr.func_offset + (size_t)i * sizeof(*out), out);
	/* checked by hp_md_next(); kept for a record made by hand */
	if (!hp_func_slices_fit(rec, out))
		return -HP_EMD_TRUNC;
	return 0;
}

int hp_md_var(const struct hp_md_record *rec, uint32_t i, struct hp_md_var_disk *out)
{
	if (i >= rec->hdr.var_count)
		return -ERANGE;
	hp_read_var(rec->base + rec->hdr.var_offset + (size_t)i * sizeof(*out), out);
	return 0;
}

const char *hp_md_str(const struct hp_md_record *rec, uint32_t off)
{
	/* the table ends with a NUL (checked), so any offset inside is safe */
	if (off >= rec->hdr.strtab_size)
		return NULL;
	return (const char *)rec->base + rec->hdr.strtab_offset + off;
}

const char *hp_md_ref(const struct hp_md_record *rec, uint32_t first, uint32_t i)
{
	uint64_t idx = (uint64_t)first + i;

	if (idx >= rec->hdr.ref_count)
		return NULL;
	return hp_md_str(rec, hp_get32(rec->base + rec->hdr.ref_offset + 4 * idx));
}

const char *hp_md_argv(const struct hp_md_record *rec, uint32_t i)
{
	uint32_t off = rec->hdr.argv;
	const char *s;

	if (i >= rec->hdr.argc)
		return NULL;
	while (i--) {
		s = hp_md_str(rec, off);
		if (!s)
			return NULL;
		off += (uint32_t)strlen(s) + 1;
	}
	return hp_md_str(rec, off);
}

int hp_md_argv_all(const struct hp_md_record *rec, const char **argv)
{
	return hp_walk_argv(rec, argv);
}
