/* Checks of the package's own ELF image that must pass before the dynamic
 * loader sees it: dlopen() runs a package's initialisers (DT_INIT,
 * DT_INIT_ARRAY, DT_PREINIT_ARRAY) and IRELATIVE resolvers while loading
 * it, and dlclose() of a refused one runs its finalisers. A package mkpatch
 * wrote has none of them (it links without start files), so one that has
 * them is refused; and every replacement and slot offset is checked against
 * the segments the loader will map, so nothing of the package runs before
 * every check has passed. */
#include <elf.h>
#include <string.h>

#include "hp_internal.h"

struct pkg_elf {
	const unsigned char *bytes;
	size_t size;
	const Elf64_Phdr *ph;
	size_t phnum;
};

static int fits(const struct pkg_elf *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

/* The PT_LOAD holding [vaddr, vaddr + len), with at least flags, or NULL. */
static const Elf64_Phdr *load_of(const struct pkg_elf *e, uint64_t vaddr, uint64_t len,
				 uint32_t flags)
{
	for (size_t i = 0; i < e->phnum; i++) {
		const Elf64_Phdr *p = &e->ph[i];
		if (p->p_type == PT_LOAD && vaddr >= p->p_vaddr && len <= p->p_memsz &&
		    vaddr - p->p_vaddr <= p->p_memsz - len && (p->p_flags & flags) == flags)
			return p;
	}
	return NULL;
}

/* File offset of a table the dynamic section names by address. */
static int file_range(const struct pkg_elf *e, uint64_t vaddr, uint64_t len, uint64_t *off)
{
	const Elf64_Phdr *p = load_of(e, vaddr, len, 0);
	if (!p || vaddr - p->p_vaddr + len > p->p_filesz)
		return -1;
	*off = p->p_offset + (vaddr - p->p_vaddr);
	return fits(e, *off, len) ? 0 : -1;
}

static int check_relocs(const struct pkg_elf *e, uint64_t vaddr, uint64_t len, char *err,
			size_t errlen)
{
	uint64_t off;

	if (!len)
		return 0;
	if (len % sizeof(Elf64_Rela) || file_range(e, vaddr, len, &off)) {
		hp_seterr(err, errlen, "the package's relocation table lies outside its file");
		return -HP_EFORMAT;
	}
	for (uint64_t i = 0; i < len / sizeof(Elf64_Rela); i++) {
		Elf64_Rela r;
		memcpy(&r, e->bytes + off + i * sizeof(r), sizeof(r));
		if (ELF64_R_TYPE(r.r_info) == R_X86_64_IRELATIVE) {
			hp_seterr(err, errlen,
				  "the package has an IRELATIVE relocation: its resolver would run "
				  "while it is loaded, before it is verified");
			return -HP_EFORMAT;
		}
	}
	return 0;
}

static const char *dyn_tag_name(Elf64_Sxword tag)
{
	switch (tag) {
	case DT_INIT:
		return "DT_INIT";
	case DT_FINI:
		return "DT_FINI";
	case DT_INIT_ARRAY:
		return "DT_INIT_ARRAY, e.g. a constructor";
	case DT_FINI_ARRAY:
		return "DT_FINI_ARRAY, e.g. a destructor";
	default:
		return "DT_PREINIT_ARRAY";
	}
}

static int check_dynamic(const struct pkg_elf *e, const Elf64_Phdr *dyn, char *err, size_t errlen)
{
	uint64_t rela = 0, relasz = 0, jmprel = 0, pltrelsz = 0;

	if (!fits(e, dyn->p_offset, dyn->p_filesz)) {
		hp_seterr(err, errlen, "the package's dynamic section lies outside its file");
		return -HP_EFORMAT;
	}
	for (uint64_t i = 0; i < dyn->p_filesz / sizeof(Elf64_Dyn); i++) {
		Elf64_Dyn d;
		memcpy(&d, e->bytes + dyn->p_offset + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		switch (d.d_tag) {
		case DT_INIT:
		case DT_FINI:
		case DT_INIT_ARRAY:
		case DT_FINI_ARRAY:
		case DT_PREINIT_ARRAY:
			hp_seterr(err, errlen,
				  "the package has initialisation or finalisation code (%s): it "
				  "would run while it is loaded, before it is verified",
				  dyn_tag_name(d.d_tag));
			return -HP_EFORMAT;
		case DT_RELA:
			rela = d.d_un.d_ptr;
			break;
		case DT_RELASZ:
			relasz = d.d_un.d_val;
			break;
		case DT_JMPREL:
			jmprel = d.d_un.d_ptr;
			break;
		case DT_PLTRELSZ:
			pltrelsz = d.d_un.d_val;
			break;
		default:
			break;
		}
	}
	int ret = check_relocs(e, rela, relasz, err, errlen);
	return ret ? ret : check_relocs(e, jmprel, pltrelsz, err, errlen);
}

/* Is vaddr inside an executable .text section (".text", ".text.*")? A
 * replacement in .plt or anywhere else executable is a jump into the
 * middle of the loader's stubs, not into a function. Without section
 * headers (stripped of them), there is nothing to tell: allowed. */
static int in_text(const struct pkg_elf *e, const Elf64_Ehdr *eh, uint64_t vaddr)
{
	Elf64_Shdr sh, names;

	if (!eh->e_shnum || eh->e_shentsize != sizeof(sh) || eh->e_shstrndx >= eh->e_shnum ||
	    !fits(e, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(sh)))
		return 1;
	memcpy(&names, e->bytes + eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(sh), sizeof(sh));
	if (names.sh_type != SHT_STRTAB || !fits(e, names.sh_offset, names.sh_size))
		return 1;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		memcpy(&sh, e->bytes + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (!(sh.sh_flags & SHF_EXECINSTR) || vaddr < sh.sh_addr ||
		    vaddr - sh.sh_addr >= sh.sh_size)
			continue;
		if (sh.sh_name >= names.sh_size || names.sh_size - sh.sh_name < 6)
			return 0;
		const char *name = (const char *)e->bytes + names.sh_offset + sh.sh_name;
		return !strncmp(name, ".text", 5) && (name[5] == 0 || name[5] == '.');
	}
	return 0;
}

int hp_pkg_check_code(const void *bytes, size_t size, const struct hp_manifest *m, char *err,
		      size_t errlen)
{
	struct pkg_elf e = {bytes, size, NULL, 0};
	const Elf64_Phdr *dyn = NULL;
	Elf64_Ehdr eh;

	if (size < sizeof(eh)) {
		hp_seterr(err, errlen, "the package is too small for an ELF header");
		return -HP_EFORMAT;
	}
	memcpy(&eh, bytes, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_DYN || eh.e_machine != EM_X86_64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !fits(&e, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)) ||
	    eh.e_phoff % _Alignof(Elf64_Phdr)) {
		hp_seterr(err, errlen, "the package is not an x86-64 shared object");
		return -HP_EFORMAT;
	}
	e.ph = (const Elf64_Phdr *)((const unsigned char *)bytes + eh.e_phoff);
	e.phnum = eh.e_phnum;
	for (size_t i = 0; i < e.phnum; i++)
		if (e.ph[i].p_type == PT_DYNAMIC)
			dyn = &e.ph[i];
	if (dyn) {
		int ret = check_dynamic(&e, dyn, err, errlen);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < m->func_count; i++)
		if (!load_of(&e, m->funcs[i].replacement_offset, 1, PF_X) ||
		    !in_text(&e, &eh, m->funcs[i].replacement_offset)) {
			hp_seterr(err, errlen,
				  "function '%s': replacement offset %#llx outside the package's "
				  "code",
				  m->funcs[i].name,
				  (unsigned long long)m->funcs[i].replacement_offset);
			return -HP_EOUTSIDE;
		}
	for (size_t i = 0; i < m->hook_count; i++)
		if (!load_of(&e, m->hooks[i].offset, 1, PF_X) ||
		    !in_text(&e, &eh, m->hooks[i].offset)) {
			hp_seterr(err, errlen,
				  "%s hook '%s': offset %#llx outside the package's code",
				  hp_pkg_hook_kind_name(m->hooks[i].kind), m->hooks[i].name,
				  (unsigned long long)m->hooks[i].offset);
			return -HP_EOUTSIDE;
		}
	for (size_t i = 0; i < m->proxy_count; i++)
		if (m->proxies[i].slot_offset % 8 ||
		    !load_of(&e, m->proxies[i].slot_offset, 8, 0)) {
			hp_seterr(err, errlen,
				  "proxy '%s': slot offset %#llx outside the package's segments",
				  m->proxies[i].name,
				  (unsigned long long)m->proxies[i].slot_offset);
			return -HP_EOUTSIDE;
		}
	return 0;
}
