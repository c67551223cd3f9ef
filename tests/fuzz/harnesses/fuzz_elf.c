/* libFuzzer harness of mkpatch's loading of a binary: mp_program_open()
 * (differ/elf_image.c through libelf: sections, symbols, the build-id
 * note, GOT and kept relocations, then the .hotpatch metadata), on an
 * input written to a memfd and opened by its /proc path, so that the code
 * under test is exactly what mkpatch runs on OLD, NEW and the linked patch.
 *
 * What mkpatch does next with the image is part of loading it: the index
 * of datum bounds built from the symbols and relocations (mp_mc_index),
 * and lookups by address when functions are compared. Each described
 * function is compared with itself, and with its neighbour in the
 * metadata over their common length, so that both comparisons (exact
 * from relocations, heuristic from the bytes) walk the image's tables. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machcode.h"
#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	memfd = memfd_create("hp-fuzz-elf", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static bool load(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(memfd, 0))
		return false;
	while (done < size) {
		ssize_t n = pwrite(memfd, data + done, size - done, (off_t)done);

		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* A function as mkpatch compares it: its bytes in the image, or none. */
static bool func_at(const struct mp_elf *e, uint64_t addr, uint64_t size, struct mp_mc_func *f)
{
	*f = (struct mp_mc_func){e, addr, size, mp_elf_bytes_at(e, addr, size)};
	return size && f->bytes;
}

static void compare(const struct mp_program *p)
{
	const struct mp_func *prev = NULL;
	struct mp_mc_func a, b;
	bool ok;

	for (uint32_t i = 0; i < p->nfuncs; i++) {
		const struct mp_func *f = &p->funcs[i];

		if (!func_at(&p->elf, f->address, f->size, &a))
			continue;
		mp_mc_same(&a, &a, &ok);
		if (prev) {
			uint64_t len = prev->size < f->size ? prev->size : f->size;

			if (func_at(&p->elf, prev->address, len, &a) &&
			    func_at(&p->elf, f->address, len, &b))
				mp_mc_same(&a, &b, &ok);
		}
		prev = f;
	}
}

/* The lookups by address that the comparisons and the type checks make. */
static void lookups(const struct mp_elf *e)
{
	for (size_t i = 0; i < e->nsyms; i++) {
		const struct mp_sym *s = &e->syms[i];
		size_t n;

		mp_elf_sym_containing(e, s->value);
		mp_elf_section_of(e, s->value);
		mp_elf_relocs_in(e, s->value, s->size, &n);
	}
	for (size_t i = 0; i < e->ngot; i++)
		if (!mp_elf_got_reloc(e, e->got[i].slot))
			abort(); /* the GOT table is not sorted */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_program p;
	struct mp_diag d = {{0}};
	int err;

	if (!load(data, size))
		return 0;
	err = mp_program_open(&p, path, "OLD", &d);
	if (err > 0 || (err && err != -ENOMEM && !d.msg[0]))
		abort(); /* an error without its message */
	/* After a failure mkpatch stops: so does the harness. */
	if (!err) {
		lookups(&p.elf);
		if (!mp_mc_exact(&p.elf) || !mp_mc_index(&p.elf))
			compare(&p);
	}
	mp_program_release(&p);
	return 0;
}
