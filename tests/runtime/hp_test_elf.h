/* Reading symbols, code bytes and the build-id of ELF files with libelf,
 * for the test tools that build packages (what mkpatch does for real). */
#ifndef HP_TEST_ELF_H
#define HP_TEST_ELF_H

#include <stddef.h>
#include <stdint.h>

struct hp_test_sym {
	uint64_t value, size;
};

/* Symbol name in path's .symtab (or .dynsym). 0 or -1. */
int hp_test_elf_sym(const char *path, const char *name, struct hp_test_sym *out);
/* Copies len bytes at link address addr from path's sections. 0 or -1. */
int hp_test_elf_bytes(const char *path, uint64_t addr, void *buf, size_t len);
/* NT_GNU_BUILD_ID of path into id[64]; returns its size, or -1. */
int hp_test_elf_build_id(const char *path, uint8_t *id);

#endif
