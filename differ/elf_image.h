/* One ELF file read with libelf: the symbol table, the allocated sections
 * (to read code and data by virtual address), the build-id and the raw
 * bytes of the .hotpatch metadata section. Everything handed out points
 * into the file's mapping and stays valid until mp_elf_close(). */
#ifndef MP_ELF_IMAGE_H
#define MP_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct mp_sym {
	const char *name;
	const char *file; /* STT_FILE in force for a local symbol, else "" */
	uint64_t value, size;
	uint8_t type, bind;
	uint16_t shndx;
};

struct mp_elf_section {
	const char *name;
	uint64_t addr, size;
	const uint8_t *data; /* NULL for SHT_NOBITS */
	bool exec;
	bool write; /* SHF_WRITE: .data, .bss, .data.rel.ro (relocated then made read-only) */
};

/* The dynamic relocation of one GOT slot (.got / .got.plt): what the slot
 * stands for, whatever its position in this build. */
struct mp_got_reloc {
	uint64_t slot;	  /* link-time address of the slot */
	uint32_t type;	  /* R_X86_64_GLOB_DAT, _JUMP_SLOT, _64, _RELATIVE, _IRELATIVE */
	const char *name; /* the dynamic symbol's name, "" for none */
	int64_t addend;
};

/* A relocation the static linker kept in the binary (linked with
 * -Wl,--emit-relocs: .rela.text, .rela.rodata, ...): the field at `at`
 * holds `rsyms[sym]` + addend, resolved for this link. It is the exact
 * record of what a relocated field refers to, e.g. "strlen@GLIBC_2.2.5 - 4"
 * or ".rodata + 0x2d" (a string literal that ld merged). */
struct mp_reloc {
	uint64_t at; /* link-time address of the field */
	int64_t addend;
	uint32_t type; /* R_X86_64_* */
	uint32_t sym;  /* index into mp_elf.rsyms (the .symtab index) */
};

struct mp_elf {
	char *path;
	int fd;
	void *elf;     /* Elf *, kept opaque so users need no libelf.h */
	uint16_t type; /* ET_EXEC / ET_DYN */
	struct mp_sym *syms;
	size_t nsyms;
	struct mp_elf_section *secs;
	size_t nsecs;
	const uint8_t *md; /* .hotpatch contents, NULL when absent */
	size_t md_size;
	uint8_t build_id[64];
	size_t build_id_size;
	bool has_debug_info;
	struct mp_got_reloc *got; /* sorted by slot */
	size_t ngot;
	/* Every .symtab entry by index (sections, NOTYPE labels included), for
	 * the symbols of relocations. */
	struct mp_sym *rsyms;
	size_t nrsyms;
	/* The kept relocations of allocated sections, sorted by field address;
	 * has_relocs when the code's own (.rela.text) are among them. */
	struct mp_reloc *relocs;
	size_t nrelocs;
	bool has_relocs;
	/* Filled by mp_mc_index(): sorted addresses where a datum may start. */
	uint64_t *bounds;
	size_t nbounds;
};

/* Opens and validates path (x86-64, little-endian, 64-bit ELF). */
int mp_elf_open(struct mp_elf *e, const char *path, struct mp_diag *d);
void mp_elf_close(struct mp_elf *e);

/* The size bytes at link-time address vaddr, or NULL if they are not all
 * file-backed contents of one allocated section. */
const uint8_t *mp_elf_bytes_at(const struct mp_elf *e, uint64_t vaddr, uint64_t size);

/* The symbol of the given type (STT_FUNC, STT_OBJECT, STT_TLS) and name at
 * vaddr, or any such symbol at vaddr if name is NULL; NULL if none. */
const struct mp_sym *mp_elf_sym_at(const struct mp_elf *e, uint64_t vaddr, int type,
				   const char *name);

/* The symbol whose [value, value+size) contains vaddr (functions and
 * objects), or NULL. Symbols are sorted by value, so this is a search. */
const struct mp_sym *mp_elf_sym_containing(const struct mp_elf *e, uint64_t vaddr);

/* The dynamic relocation of the GOT slot at vaddr, or NULL. */
const struct mp_got_reloc *mp_elf_got_reloc(const struct mp_elf *e, uint64_t vaddr);

/* The kept relocations whose field starts in [vaddr, vaddr + size), in
 * address order: *n of them from the returned pointer (NULL when none). */
const struct mp_reloc *mp_elf_relocs_in(const struct mp_elf *e, uint64_t vaddr, uint64_t size,
					size_t *n);

/* The allocated section holding vaddr, or NULL. */
const struct mp_elf_section *mp_elf_section_of(const struct mp_elf *e, uint64_t vaddr);

/* True when vaddr lies in an allocated section called name. */
bool mp_elf_in_section(const struct mp_elf *e, uint64_t vaddr, const char *name);

#endif
