/* Moving a package next to its target before it is loaded.
 *
 * A package is a shared object linked at address 0, and the dynamic loader
 * lets the kernel place it: far from a PIE executable, so every site would
 * jump through a trampoline. glibc passes an ET_DYN's first PT_LOAD
 * address to mmap as a hint, so a package whose link-time addresses are
 * moved by delta is mapped there when that range is free. This file moves
 * them, in the runtime's private copy of the package before the sealed
 * copy is written: program and section headers, the dynamic section's
 * addresses, symbol values, and the relocations' offsets and addends.
 * Code and data bytes are not touched: the code is position-independent
 * and every absolute address in data has a relocation.
 *
 * Anything it does not know how to move (TLS, REL relocations, an unknown
 * dynamic tag or relocation type, an inconsistent header) makes it refuse
 * with -ENOTSUP before the caller's copy is used, and the package is
 * loaded unmoved, reached through trampolines as before.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "hp_internal.h"

/* The file, checked as it is read: every access goes through in(). */
struct file {
	uint8_t *p;
	size_t size;
};

/* Tables of 8-byte fields must also be aligned: the file sits in malloc'd
 * memory, so an offset that is not a multiple of 8 is a broken file. */
static void *in(const struct file *f, uint64_t off, uint64_t len)
{
	if (off > f->size || len > f->size - off || off % 8)
		return NULL;
	return f->p + off;
}

/* The file offset of link-time address [va, va+len) inside a PT_LOAD's
 * file-backed part, or (uint64_t)-1. */
static uint64_t offset_of(const struct file *f, const Elf64_Ehdr *eh, uint64_t va, uint64_t len)
{
	const Elf64_Phdr *ph = in(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph));

	for (unsigned i = 0; ph && i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr &&
		    va - ph[i].p_vaddr <= ph[i].p_filesz &&
		    len <= ph[i].p_filesz - (va - ph[i].p_vaddr))
			return ph[i].p_offset + (va - ph[i].p_vaddr);
	return (uint64_t)-1;
}

static const Elf64_Ehdr *header(const struct file *f)
{
	const Elf64_Ehdr *eh = in(f, 0, sizeof(*eh));

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_type != ET_DYN || eh->e_machine != EM_X86_64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr)) ||
	    !in(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) ||
	    !in(f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return NULL;
	return eh;
}

int hp_pkg_extent(const void *bytes, size_t size, uint64_t *lo, uint64_t *len, uint64_t *align)
{
	struct file f = {(uint8_t *)bytes, size};
	const Elf64_Ehdr *eh = header(&f);
	uint64_t start = UINT64_MAX, end = 0, a = 4096;
	const Elf64_Phdr *ph;

	if (!eh)
		return -ENOTSUP;
	ph = in(&f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph));
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_vaddr < start)
			start = ph[i].p_vaddr;
		if (ph[i].p_vaddr + ph[i].p_memsz > end)
			end = ph[i].p_vaddr + ph[i].p_memsz;
		if (ph[i].p_align > a)
			a = ph[i].p_align;
	}
	if (start >= end || (a & (a - 1)) || a > (1ull << 30))
		return -ENOTSUP;
	*align = a;
	*lo = start & ~(a - 1);
	*len = ((end - *lo) + 4095) & ~4095ull;
	return 0;
}

static int is_address_tag(int64_t tag)
{
	switch (tag) {
	case DT_PLTGOT:
	case DT_HASH:
	case DT_STRTAB:
	case DT_SYMTAB:
	case DT_RELA:
	case DT_INIT:
	case DT_FINI:
	case DT_JMPREL:
	case DT_INIT_ARRAY:
	case DT_FINI_ARRAY:
	case DT_PREINIT_ARRAY:
	case DT_GNU_HASH:
	case DT_VERSYM:
	case DT_VERDEF:
	case DT_VERNEED:
		return 1;
	default:
		return 0;
	}
}

static int is_value_tag(int64_t tag)
{
	switch (tag) {
	case DT_NEEDED:
	case DT_PLTRELSZ:
	case DT_RELASZ:
	case DT_RELAENT:
	case DT_STRSZ:
	case DT_SYMENT:
	case DT_SONAME:
	case DT_RPATH:
	case DT_SYMBOLIC:
	case DT_BIND_NOW:
	case DT_INIT_ARRAYSZ:
	case DT_FINI_ARRAYSZ:
	case DT_PREINIT_ARRAYSZ:
	case DT_RUNPATH:
	case DT_FLAGS:
	case DT_FLAGS_1:
	case DT_RELACOUNT:
	case DT_VERDEFNUM:
	case DT_VERNEEDNUM:
	case DT_DEBUG: /* the loader writes it */
		return 1;
	case DT_PLTREL: /* checked to be DT_RELA by the caller */
		return 1;
	default:
		return 0;
	}
}

/* One relocation table at link-time address va, size bytes. */
static int move_relocs(const struct file *f, const Elf64_Ehdr *eh, uint64_t va, uint64_t size,
		       uint64_t delta)
{
	uint64_t off;
	Elf64_Rela *r;

	if (!size)
		return 0;
	off = offset_of(f, eh, va, size);
	r = off == (uint64_t)-1 || size % sizeof(*r) ? NULL : in(f, off, size);
	if (!r)
		return -ENOTSUP;
	for (size_t i = 0; i < size / sizeof(*r); i++) {
		switch (ELF64_R_TYPE(r[i].r_info)) {
		case R_X86_64_NONE:
			continue;
		case R_X86_64_RELATIVE:
		case R_X86_64_IRELATIVE:
			r[i].r_addend += (int64_t)delta;
			break;
		case R_X86_64_64:
		case R_X86_64_GLOB_DAT:
		case R_X86_64_JUMP_SLOT:
			/* S + A: the symbol's value moves with it */
			break;
		default:
			return -ENOTSUP;
		}
		r[i].r_offset += delta;
	}
	return 0;
}

static int move_dynamic(const struct file *f, const Elf64_Ehdr *eh, const Elf64_Phdr *dyn,
			uint64_t delta)
{
	Elf64_Dyn *d = in(f, dyn->p_offset, dyn->p_filesz);
	size_t n = dyn->p_filesz / sizeof(*d);
	uint64_t rela = 0, relasz = 0, jmprel = 0, pltrelsz = 0;
	int ret;

	if (!d)
		return -ENOTSUP;
	/* First look, then move: nothing is written when a tag is unknown. */
	for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag == DT_PLTREL && d[i].d_un.d_val != DT_RELA)
			return -ENOTSUP;
		if (!is_address_tag(d[i].d_tag) && !is_value_tag(d[i].d_tag))
			return -ENOTSUP;
		if (d[i].d_tag == DT_RELA)
			rela = d[i].d_un.d_ptr;
		else if (d[i].d_tag == DT_RELASZ)
			relasz = d[i].d_un.d_val;
		else if (d[i].d_tag == DT_JMPREL)
			jmprel = d[i].d_un.d_ptr;
		else if (d[i].d_tag == DT_PLTRELSZ)
			pltrelsz = d[i].d_un.d_val;
	}
	if ((ret = move_relocs(f, eh, rela, relasz, delta)) ||
	    (ret = move_relocs(f, eh, jmprel, pltrelsz, delta)))
		return ret;
	for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++)
		if (is_address_tag(d[i].d_tag))
			d[i].d_un.d_ptr += delta;
	return 0;
}

static int move_symbols(const struct file *f, const Elf64_Shdr *sh, uint64_t delta)
{
	Elf64_Sym *s = in(f, sh->sh_offset, sh->sh_size);

	if (!s || sh->sh_entsize != sizeof(*s))
		return -ENOTSUP;
	for (size_t i = 0; i < sh->sh_size / sizeof(*s); i++) {
		if (s[i].st_shndx == SHN_UNDEF || s[i].st_shndx == SHN_ABS ||
		    s[i].st_shndx == SHN_COMMON || ELF64_ST_TYPE(s[i].st_info) == STT_TLS)
			continue;
		if (s[i].st_shndx >= SHN_LORESERVE)
			return -ENOTSUP;
		s[i].st_value += delta;
	}
	return 0;
}

int hp_pkg_rebase(void *bytes, size_t size, uint64_t delta)
{
	struct file f = {bytes, size};
	const Elf64_Ehdr *eh = header(&f);
	Elf64_Phdr *ph;
	Elf64_Shdr *sh;
	int ret, have_dynsym = 0;

	if (!eh || !eh->e_shnum)
		return -ENOTSUP;
	ph = in(&f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph));
	sh = in(&f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(*sh));
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_TLS || ph[i].p_type == PT_INTERP)
			return -ENOTSUP;
	for (unsigned i = 0; i < eh->e_shnum; i++)
		have_dynsym |= sh[i].sh_type == SHT_DYNSYM;
	/* The order matters only for failure: the dynamic section (which may
	 * refuse) first, then what cannot refuse except on a bad table. */
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC && (ret = move_dynamic(&f, eh, &ph[i], delta)))
			return ret;
	if (!have_dynsym)
		return -ENOTSUP;
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if ((sh[i].sh_type == SHT_SYMTAB || sh[i].sh_type == SHT_DYNSYM) &&
		    (ret = move_symbols(&f, &sh[i], delta)))
			return ret;
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_flags & SHF_ALLOC)
			sh[i].sh_addr += delta;
	/* Last: offset_of() above read the link-time addresses. */
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type != PT_GNU_STACK) {
			ph[i].p_vaddr += delta;
			ph[i].p_paddr += delta;
		}
	if (eh->e_entry)
		((Elf64_Ehdr *)bytes)->e_entry += delta;
	return 0;
}
