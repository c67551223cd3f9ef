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

static int hp_check_header(const struct hp_md_tu_disk *h)
{
	uint64_t size = h->record_size;

	if (h->header_size < sizeof(*h) || size < h->header_size || size % HP_MD_ALIGN)
		return -HP_EMD_MALFORMED;
	if (!hp_fits(h->func_offset, h->func_count, sizeof(struct hp_md_func_disk), size) ||
	    !hp_fits(h->var_offset, h->var_count, sizeof(struct hp_md_var_disk), size) ||
	    !hp_fits(h->ref_offset, h->ref_count, 4, size) ||
	    !hp_fits(h->strtab_offset, h->strtab_size, 1, size))
		return -HP_EMD_TRUNC;
	if (h->func_offset % 8 || h->var_offset % 8 || h->ref_offset % 4)
		return -HP_EMD_MALFORMED;
	return 0;
}

int hp_md_next(struct hp_md_iter *it, struct hp_md_record *rec)
{
	const unsigned char *p;
	int err;

	/* the linker may pad between input sections with zeros */
	while (it->pos + 8 <= it->size && !hp_get64(it->data + it->pos))
		it->pos += 8;
	if (it->pos >= it->size)
		return 0;
	if (it->size - it->pos < sizeof(struct hp_md_tu_disk)) {
		it->pos = it->size;
		return -HP_EMD_TRUNC;
	}
	p = it->data + it->pos;
	if (memcmp(p, HP_MD_MAGIC, 4)) {
		it->pos = it->size;
		return -HP_EMD_MAGIC;
	}
	hp_read_header(p, &rec->hdr);
	if (rec->hdr.version != HP_MD_VERSION) {
		it->pos = it->size;
		return -HP_EMD_VERSION;
	}
	err = hp_check_header(&rec->hdr);
	if (!err && rec->hdr.record_size > it->size - it->pos)
		err = -HP_EMD_TRUNC;
	/* the string table must start with "" and end with a NUL */
	if (!err && (!rec->hdr.strtab_size || p[rec->hdr.strtab_offset] ||
		     p[rec->hdr.strtab_offset + rec->hdr.strtab_size - 1]))
		err = -HP_EMD_MALFORMED;
	if (err) {
		it->pos = it->size;
		return err;
	}
	rec->base = p;
	rec->offset = it->pos;
	it->pos += rec->hdr.record_size;
	return 1;
}

int hp_md_func(const struct hp_md_record *rec, uint32_t i, struct hp_md_func_disk *out)
{
	const unsigned char *p;

	if (i >= rec->hdr.func_count)
		return -ERANGE;
	p = rec->base + rec->hdr.func_offset + (size_t)i * sizeof(*out);
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
	if (!hp_fits(out->inlined_first, out->inlined_count, 1, rec->hdr.ref_count) ||
	    !hp_fits(out->calls_first, out->calls_count, 1, rec->hdr.ref_count) ||
	    !hp_fits(out->vars_first, out->vars_count, 1, rec->hdr.ref_count))
		return -HP_EMD_TRUNC;
	return 0;
}

int hp_md_var(const struct hp_md_record *rec, uint32_t i, struct hp_md_var_disk *out)
{
	const unsigned char *p;

	if (i >= rec->hdr.var_count)
		return -ERANGE;
	p = rec->base + rec->hdr.var_offset + (size_t)i * sizeof(*out);
	out->address = hp_get64(p);
	out->size = hp_get64(p + 8);
	out->init_hash = hp_get64(p + 16);
	out->name = hp_get32(p + 24);
	out->flags = hp_get32(p + 28);
	out->owner = hp_get32(p + 32);
	out->source_name = hp_get32(p + 36);
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
