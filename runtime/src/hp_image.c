/* Loaded images: found by build-id among everything dl_iterate_phdr knows,
 * so a patch can target the executable or any shared object. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>

#include "hp_internal.h"

struct find_ctx {
	const uint8_t *id;
	size_t len;
	int found;
	struct hp_image *out;
};

/* Walks the notes of one PT_NOTE segment for NT_GNU_BUILD_ID. */
static int note_has_id(const uint8_t *p, size_t size, const uint8_t *id, size_t len)
{
	while (size >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
		size_t namesz = (n->n_namesz + 3) & ~3u, descsz = (n->n_descsz + 3) & ~3u;
		size_t total = sizeof(*n) + namesz + descsz;

		if (total > size)
			return 0;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    memcmp(p + sizeof(*n), "GNU", 4) == 0)
			return n->n_descsz == len && memcmp(p + sizeof(*n) + namesz, id, len) == 0;
		p += total;
		size -= total;
	}
	return 0;
}

static void fill_image(struct dl_phdr_info *info, struct hp_image *out)
{
	out->bias = info->dlpi_addr;
	strncpy(out->name, info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "main program",
		sizeof(out->name) - 1);
	out->name[sizeof(out->name) - 1] = 0;
	out->nseg = 0;
	for (int i = 0; i < info->dlpi_phnum && out->nseg < HP_MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		out->seg[out->nseg++] = (struct hp_segment){ph->p_vaddr, ph->p_memsz, ph->p_flags};
	}
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find_ctx *c = data;
	int match = 0;

	for (int i = 0; i < info->dlpi_phnum && !match; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_NOTE)
			match = note_has_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr),
					    ph->p_memsz, c->id, c->len);
	}
	if (!match)
		return 0;
	fill_image(info, c->out);
	c->found = 1;
	return 1;
}

int hp_image_by_build_id(const uint8_t *id, size_t len, struct hp_image *out)
{
	struct find_ctx c = {.id = id, .len = len, .out = out};

	dl_iterate_phdr(find_cb, &c);
	return c.found ? 0 : -HP_ENOTARGET;
}

int hp_image_contains(const struct hp_image *img, uint64_t off, uint64_t len, uint32_t flags)
{
	for (size_t i = 0; i < img->nseg; i++) {
		const struct hp_segment *s = &img->seg[i];

		if ((s->flags & flags) != flags)
			continue;
		if (off >= s->vaddr && off - s->vaddr <= s->memsz &&
		    len <= s->memsz - (off - s->vaddr))
			return 1;
	}
	return 0;
}
