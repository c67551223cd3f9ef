/* Finding one section in an ELF file held in memory, with every offset
 * checked: the reader runs inside the engine on a file it did not build. */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hp_package.h"
#include "hp_pkg_internal.h"

void hp_pkg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* [off, off+len) inside [0, size), without overflow. */
static int in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

int hp_elf_find_section(const uint8_t *file, size_t size, const char *name, uint64_t *off,
			uint64_t *len, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	Elf64_Shdr strsh, sh;
	size_t namelen = strlen(name);

	if (size < sizeof(eh) || memcmp(file, ELFMAG, SELFMAG) != 0) {
		hp_pkg_seterr(err, errlen, "not an ELF file");
		return -HP_EFORMAT;
	}
	memcpy(&eh, file, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		hp_pkg_seterr(err, errlen, "not a 64-bit little-endian ELF file");
		return -HP_EFORMAT;
	}
	/* Extended numbering (e_shnum == 0, SHN_XINDEX) never occurs in a
	 * package; refusing it keeps the reader small. */
	if (eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum && eh.e_shoff <= UINT64_MAX / 2 &&
	    eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size) {
		hp_pkg_seterr(err, errlen,
			      "package truncated: section headers end beyond the file");
		return -HP_ETRUNC;
	}
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shstrndx == SHN_UNDEF ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    !in_file(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), size)) {
		hp_pkg_seterr(err, errlen, "ELF section header table is missing or out of bounds");
		return -HP_EFORMAT;
	}
	memcpy(&strsh, file + eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh), sizeof(sh));
	if (strsh.sh_type != SHT_STRTAB || !in_file(strsh.sh_offset, strsh.sh_size, size)) {
		hp_pkg_seterr(err, errlen, "ELF section name table is out of bounds");
		return -HP_EFORMAT;
	}
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, file + eh.e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		/* The name plus its terminator must lie inside the table. */
		if (sh.sh_name >= strsh.sh_size || strsh.sh_size - sh.sh_name < namelen + 1)
			continue;
		if (memcmp(file + strsh.sh_offset + sh.sh_name, name, namelen + 1) != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_ALLOC) ||
		    !in_file(sh.sh_offset, sh.sh_size, size)) {
			hp_pkg_seterr(err, errlen, "section '%s' is allocated or out of bounds",
				      name);
			return -HP_EFORMAT;
		}
		*off = sh.sh_offset;
		*len = sh.sh_size;
		return 0;
	}
	hp_pkg_seterr(err, errlen, "no '%s' section: not a hotpatch package", name);
	return -HP_EFORMAT;
}
