/* libFuzzer harness of the package reader: hp_pkg_read_mem(), which the
 * runtime runs inside a production engine on a file it did not build, and
 * after it the runtime's checks of the package's own ELF image
 * (hp_pkg_check_code), the last code that reads the file before dlopen.
 *
 * Built twice. Raw: the mutated bytes as they are, so the ELF lookup and
 * the manifest header checks see damage of every kind. Sealed
 * (HP_FUZZ_SEAL): a custom mutator stores the input's length as
 * package_size and recomputes the checksum after every mutation, as the
 * writer does, because nearly every mutation would otherwise stop at step
 * 7 (checksum) and never reach the table, string and bounds checks behind
 * it. Every input it runs is sealed so (the seeds are real packages, and
 * a saved crash is the mutator's output), so a file made by hand must be
 * sealed to get past the checksum. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_internal.h"
#include "hp_package.h"
#include "hp_pkg_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef HP_FUZZ_SEAL
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static bool manifest_of(const uint8_t *file, size_t size, uint64_t *off, uint64_t *len)
{
	return !hp_elf_find_section(file, size, HP_PKG_MANIFEST_SECTION, off, len, NULL, 0) &&
	       *len >= sizeof(struct hp_pkg_header_disk);
}

/* Seals the file as hp_pkg_builder_write() does, when the reader's own
 * section lookup finds a manifest big enough to hold a header. */
static void seal(uint8_t *file, size_t size)
{
	const size_t at_size = offsetof(struct hp_pkg_header_disk, package_size);
	const size_t at_sum = offsetof(struct hp_pkg_header_disk, checksum);
	uint64_t off, len, package_size = size, sum;

	if (!manifest_of(file, size, &off, &len))
		return;
	memcpy(file + off + at_size, &package_size, sizeof(package_size));
	sum = hp_pkg_file_checksum(file, size, off + at_sum);
	memcpy(file + off + at_sum, &sum, sizeof(sum));
}

/* The manifest is a few hundred bytes of a 20 KB file: mutations spread
 * over the whole file would seldom touch it (a planted off-by-one in a
 * string offset check went unfound for 300,000 executions). Three in four
 * mutate the manifest alone, in place; the rest the whole file. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint64_t off, len;

	if (seed % 4 && manifest_of(data, size, &off, &len)) {
		LLVMFuzzerMutate(data + off, len, len); /* a shorter result leaves a stale tail */
	} else {
		size = LLVMFuzzerMutate(data, size, max_size);
	}
	seal(data, size);
	return size;
}
#endif

/* What the runtime reads of a manifest it was handed: every string must
 * end inside the decoded block (ASan reports the overrun otherwise). */
static size_t walk(const struct hp_manifest *m)
{
	size_t n = strlen(m->name) + strlen(m->target_name) + strlen(m->description);

	for (size_t i = 0; i < m->func_count; i++)
		n += strlen(m->funcs[i].name) + strlen(m->funcs[i].tu);
	for (size_t i = 0; i < m->proxy_count; i++)
		n += strlen(m->proxies[i].name) + strlen(m->proxies[i].tu);
	for (size_t i = 0; i < m->hook_count; i++)
		n += strlen(m->hooks[i].name);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_manifest *m = (struct hp_manifest *)1;
	char err[256] = "";
	uint8_t *file;
	int ret;

	/* A private copy of exactly size bytes: any read past the end is an
	 * ASan report. */
	file = malloc(size ? size : 1);
	if (!file)
		return 0;
	memcpy(file, data, size);
	ret = hp_pkg_read_mem(file, size, &m, err, sizeof(err));
	/* The reader's promises (hp_package.h): a manifest on success and
	 * nothing else; a NULL manifest and a reason on failure. */
	if (ret == 0) {
		if (!m || !m->func_count || !m->build_id_size ||
		    m->build_id_size > HP_PKG_BUILD_ID_MAX || m->package_size != size)
			abort();
		walk(m);
		err[0] = 0;
		if (hp_pkg_check_code(file, size, m, err, sizeof(err)) && !err[0])
			abort();
		hp_manifest_free(m);
	} else if (ret > 0 || m || !err[0]) {
		abort();
	}
	free(file);
	return 0;
}
