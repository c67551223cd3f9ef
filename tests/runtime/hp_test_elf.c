#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "hp_test_elf.h"

static Elf *open_elf(const char *path, int *fd)
{
	elf_version(EV_CURRENT);
	*fd = open(path, O_RDONLY);
	if (*fd < 0)
		return NULL;
	return elf_begin(*fd, ELF_C_READ, NULL);
}

static void close_elf(Elf *e, int fd)
{
	elf_end(e);
	close(fd);
}

int hp_test_elf_sym(const char *path, const char *name, struct hp_test_sym *out)
{
	int fd, ret = -1;
	Elf *e = open_elf(path, &fd);
	Elf_Scn *scn = NULL;

	if (!e)
		return -1;
	while (ret && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(e, sh.sh_link, s.st_name);
			if (n && strcmp(n, name) == 0) {
				out->value = s.st_value;
				out->size = s.st_size;
				ret = 0;
				break;
			}
		}
	}
	close_elf(e, fd);
	return ret;
}

int hp_test_elf_bytes(const char *path, uint64_t addr, void *buf, size_t len)
{
	int fd, ret = -1;
	Elf *e = open_elf(path, &fd);
	Elf_Scn *scn = NULL;

	if (!e)
		return -1;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (addr < sh.sh_addr || addr + len > sh.sh_addr + sh.sh_size)
			continue;
		if (pread(fd, buf, len, sh.sh_offset + (addr - sh.sh_addr)) == (ssize_t)len)
			ret = 0;
		break;
	}
	close_elf(e, fd);
	return ret;
}

int hp_test_elf_build_id(const char *path, uint8_t *id)
{
	int fd, ret = -1;
	Elf *e = open_elf(path, &fd);
	Elf_Scn *scn = NULL;

	if (!e)
		return -1;
	while (ret < 0 && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_descsz <= 64 && nh.n_namesz == 4 &&
			    memcmp((char *)d->d_buf + noff, "GNU", 4) == 0) {
				memcpy(id, (char *)d->d_buf + doff, nh.n_descsz);
				ret = nh.n_descsz;
				break;
			}
		}
	}
	close_elf(e, fd);
	return ret;
}
