#include "elf_image.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_metadata_format.h"

static int elf_fail(struct mp_diag *d, const char *path, const char *what)
{
	return mp_fail(d, HP_EMALFORMED, "'%s': malformed ELF: %s (%s)", path, what,
		       elf_errmsg(-1));
}

static int cmp_sym_value(const void *a, const void *b)
{
	const struct mp_sym *x = a, *y = b;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return 0;
}

static int read_symtab(struct mp_elf *e, Elf_Scn *scn, GElf_Shdr *sh, struct mp_diag *d)
{
	Elf *elf = e->elf;
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || sh->sh_entsize != sizeof(Elf64_Sym))
		return elf_fail(d, e->path, "unreadable .symtab");
	size_t n = data->d_size / sizeof(Elf64_Sym);
	e->syms = calloc(n ? n : 1, sizeof(*e->syms));
	e->rsyms = calloc(n ? n : 1, sizeof(*e->rsyms));
	if (!e->syms || !e->rsyms)
		return -ENOMEM;
	e->nrsyms = n;
	const char *file = "";
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		if (!gelf_getsym(data, (int)i, &s))
			return elf_fail(d, e->path, "bad symbol");
		const char *name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name)
			return elf_fail(d, e->path, "bad symbol name");
		int type = GELF_ST_TYPE(s.st_info);
		if (type == STT_FILE) {
			file = name;
			continue;
		}
		e->rsyms[i] = (struct mp_sym){
			name,	       GELF_ST_BIND(s.st_info) == STB_LOCAL ? file : "",
			s.st_value,    s.st_size,
			(uint8_t)type, GELF_ST_BIND(s.st_info),
			s.st_shndx,
		};
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_TLS)
			continue;
		struct mp_sym *m = &e->syms[e->nsyms++];
		m->name = name;
		m->bind = GELF_ST_BIND(s.st_info);
		m->file = m->bind == STB_LOCAL ? file : "";
		m->value = s.st_value;
		m->size = s.st_size;
		m->type = (uint8_t)type;
		m->shndx = s.st_shndx;
	}
	qsort(e->syms, e->nsyms, sizeof(*e->syms), cmp_sym_value);
	return 0;
}

static void read_build_id(struct mp_elf *e, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data)
		return;
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4) &&
		    nh.n_descsz <= sizeof(e->build_id)) {
			memcpy(e->build_id, (char *)data->d_buf + desc_off, nh.n_descsz);
			e->build_id_size = nh.n_descsz;
			return;
		}
	}
}

static bool in_got(const struct mp_elf *e, uint64_t a)
{
	return mp_elf_in_section(e, a, ".got") || mp_elf_in_section(e, a, ".got.plt");
}

static int cmp_got(const void *a, const void *b)
{
	const struct mp_got_reloc *x = a, *y = b;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* The relocations of one SHT_RELA section that land in a GOT slot. A
 * damaged relocation section is skipped: without it GOT slots are compared
 * by position (conservative), and the rest of the file may still be fine. */
static int read_got_relocs(struct mp_elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf *elf = e->elf;
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || sh->sh_entsize != sizeof(Elf64_Rela))
		return 0;
	Elf_Scn *symscn = sh->sh_link ? elf_getscn(elf, sh->sh_link) : NULL;
	GElf_Shdr symsh = {0};
	Elf_Data *symdata = NULL;
	if (symscn && gelf_getshdr(symscn, &symsh) &&
	    (symsh.sh_type == SHT_DYNSYM || symsh.sh_type == SHT_SYMTAB))
		symdata = elf_getdata(symscn, NULL);
	size_t n = data->d_size / sizeof(Elf64_Rela);
	for (size_t i = 0; i < n && i <= INT32_MAX; i++) {
		GElf_Rela r;
		if (!gelf_getrela(data, (int)i, &r))
			return 0;
		if (!in_got(e, r.r_offset))
			continue;
		const char *name = "";
		size_t symi = GELF_R_SYM(r.r_info);
		GElf_Sym sym;
		if (symi && symdata && symi <= INT32_MAX && gelf_getsym(symdata, (int)symi, &sym)) {
			const char *s = elf_strptr(elf, symsh.sh_link, sym.st_name);
			name = s ? s : "";
		}
		struct mp_got_reloc *g = realloc(e->got, (e->ngot + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		e->got = g;
		g[e->ngot++] = (struct mp_got_reloc){r.r_offset, (uint32_t)GELF_R_TYPE(r.r_info),
						     name, r.r_addend};
	}
	return 0;
}

static int read_all_got_relocs(struct mp_elf *e)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		int err = read_got_relocs(e, scn, &sh);
		if (err)
			return err;
	}
	if (e->ngot)
		qsort(e->got, e->ngot, sizeof(*e->got), cmp_got);
	return 0;
}

static int cmp_reloc(const void *a, const void *b)
{
	const struct mp_reloc *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* True for a relocation section ld kept with --emit-relocs: not loaded
 * (.rela.dyn and .rela.plt are), applying to an allocated section, with
 * symbols from .symtab. */
static bool is_kept_rela(struct mp_elf *e, const GElf_Shdr *sh, bool *for_code)
{
	if (sh->sh_type != SHT_RELA || sh->sh_flags & SHF_ALLOC || !sh->sh_info ||
	    sh->sh_entsize != sizeof(Elf64_Rela))
		return false;
	GElf_Shdr to, sym;
	Elf_Scn *tscn = elf_getscn(e->elf, sh->sh_info), *sscn = elf_getscn(e->elf, sh->sh_link);
	if (!tscn || !sscn || !gelf_getshdr(tscn, &to) || !gelf_getshdr(sscn, &sym))
		return false;
	*for_code = to.sh_flags & SHF_EXECINSTR;
	return to.sh_flags & SHF_ALLOC && sym.sh_type == SHT_SYMTAB;
}

/* A damaged section is skipped (the comparison then has fewer relocations
 * and sees differing bytes as changes: conservative). */
static int read_kept_relocs(struct mp_elf *e, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data)
		return 0;
	size_t n = data->d_size / sizeof(Elf64_Rela);
	struct mp_reloc *r = realloc(e->relocs, (e->nrelocs + n + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	e->relocs = r;
	for (size_t i = 0; i < n && i <= INT32_MAX; i++) {
		GElf_Rela ra;
		if (!gelf_getrela(data, (int)i, &ra))
			break;
		size_t sym = GELF_R_SYM(ra.r_info);
		if (sym >= e->nrsyms)
			continue;
		r[e->nrelocs++] = (struct mp_reloc){
			ra.r_offset, ra.r_addend, (uint32_t)GELF_R_TYPE(ra.r_info), (uint32_t)sym};
	}
	return 0;
}

static int read_all_kept_relocs(struct mp_elf *e)
{
	Elf_Scn *scn = NULL;
	if (!e->rsyms)
		return 0;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		bool code = false;
		if (!gelf_getshdr(scn, &sh) || !is_kept_rela(e, &sh, &code))
			continue;
		int err = read_kept_relocs(e, scn);
		if (err)
			return err;
		e->has_relocs |= code;
	}
	if (e->nrelocs)
		qsort(e->relocs, e->nrelocs, sizeof(*e->relocs), cmp_reloc);
	return 0;
}

static int read_sections(struct mp_elf *e, struct mp_diag *d)
{
	Elf *elf = e->elf;
	size_t shnum, shstrndx;
	if (elf_getshdrnum(elf, &shnum) || elf_getshdrstrndx(elf, &shstrndx))
		return elf_fail(d, e->path, "bad section headers");
	e->secs = calloc(shnum ? shnum : 1, sizeof(*e->secs));
	if (!e->secs)
		return -ENOMEM;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return elf_fail(d, e->path, "bad section header");
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			return elf_fail(d, e->path, "bad section name");
		if (sh.sh_type == SHT_SYMTAB && !e->syms) {
			int err = read_symtab(e, scn, &sh, d);
			if (err)
				return err;
		} else if (sh.sh_type == SHT_NOTE) {
			if (!e->build_id_size)
				read_build_id(e, scn);
		} else if (!strcmp(name, HP_MD_SECTION) && sh.sh_type == SHT_PROGBITS) {
			Elf_Data *data = elf_rawdata(scn, NULL);
			if (!data)
				return elf_fail(d, e->path, "unreadable " HP_MD_SECTION);
			e->md = data->d_buf;
			e->md_size = data->d_size;
		} else if (!strcmp(name, ".debug_info")) {
			e->has_debug_info = true;
		}
		if (!(sh.sh_flags & SHF_ALLOC))
			continue;
		struct mp_elf_section *s = &e->secs[e->nsecs++];
		s->name = name;
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->exec = sh.sh_flags & SHF_EXECINSTR;
		s->write = sh.sh_flags & SHF_WRITE;
		if (sh.sh_type != SHT_NOBITS) {
			Elf_Data *data = elf_rawdata(scn, NULL);
			if (!data || data->d_size != sh.sh_size)
				return elf_fail(d, e->path, "unreadable section contents");
			s->data = data->d_buf;
		}
	}
	int err = read_all_got_relocs(e);
	return err ? err : read_all_kept_relocs(e);
}

int mp_elf_open(struct mp_elf *e, const char *path, struct mp_diag *d)
{
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	elf_version(EV_CURRENT);
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		return mp_fail(d, errno, "cannot open '%s': %s", path, strerror(errno));
	Elf *elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	e->elf = elf;
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		return mp_fail(d, HP_EMALFORMED, "'%s': not an ELF file", path);
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf, &eh))
		return elf_fail(d, path, "bad ELF header");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return mp_fail(d, HP_EMALFORMED, "'%s': not a 64-bit x86-64 ELF file", path);
	e->type = eh.e_type;
	int err = read_sections(e, d);
	if (err)
		return err;
	if (!e->syms)
		return mp_fail(d, HP_EMALFORMED, "'%s': no symbol table (stripped?)", path);
	return 0;
}

void mp_elf_close(struct mp_elf *e)
{
	if (!e->path)
		return; /* never opened */
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->syms);
	free(e->secs);
	free(e->got);
	free(e->rsyms);
	free(e->relocs);
	free(e->bounds);
	free(e->path);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

const uint8_t *mp_elf_bytes_at(const struct mp_elf *e, uint64_t vaddr, uint64_t size)
{
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct mp_elf_section *s = &e->secs[i];
		if (!s->data || vaddr < s->addr || vaddr - s->addr > s->size ||
		    size > s->size - (vaddr - s->addr))
			continue;
		return s->data + (vaddr - s->addr);
	}
	return NULL;
}

static size_t lower_bound(const struct mp_elf *e, uint64_t vaddr)
{
	size_t lo = 0, hi = e->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->syms[mid].value < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mp_sym *mp_elf_sym_at(const struct mp_elf *e, uint64_t vaddr, int type,
				   const char *name)
{
	for (size_t i = lower_bound(e, vaddr); i < e->nsyms && e->syms[i].value == vaddr; i++) {
		const struct mp_sym *s = &e->syms[i];
		if (s->type == type && (!name || !strcmp(s->name, name)))
			return s;
	}
	return NULL;
}

const struct mp_sym *mp_elf_sym_containing(const struct mp_elf *e, uint64_t vaddr)
{
	size_t i = lower_bound(e, vaddr + 1);
	while (i-- > 0) {
		const struct mp_sym *s = &e->syms[i];
		if (s->value <= vaddr && vaddr - s->value < s->size)
			return s;
		if (vaddr - s->value > (1u << 24))
			break;
	}
	return NULL;
}

const struct mp_got_reloc *mp_elf_got_reloc(const struct mp_elf *e, uint64_t vaddr)
{
	struct mp_got_reloc key = {.slot = vaddr};
	if (!e->ngot)
		return NULL;
	return bsearch(&key, e->got, e->ngot, sizeof(*e->got), cmp_got);
}

const struct mp_reloc *mp_elf_relocs_in(const struct mp_elf *e, uint64_t vaddr, uint64_t size,
					size_t *n)
{
	size_t lo = 0, hi = e->nrelocs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->relocs[mid].at < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < e->nrelocs && e->relocs[end].at - vaddr < size)
		end++;
	*n = end - lo;
	return *n ? &e->relocs[lo] : NULL;
}

const struct mp_elf_section *mp_elf_section_of(const struct mp_elf *e, uint64_t vaddr)
{
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct mp_elf_section *s = &e->secs[i];
		if (s->size && vaddr >= s->addr && vaddr - s->addr < s->size)
			return s;
	}
	return NULL;
}

bool mp_elf_in_section(const struct mp_elf *e, uint64_t vaddr, const char *name)
{
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct mp_elf_section *s = &e->secs[i];
		if (vaddr >= s->addr && vaddr - s->addr < s->size && s->name &&
		    !strcmp(s->name, name))
			return true;
	}
	return false;
}
