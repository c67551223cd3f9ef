/* hp_plugin_check: reads what hotpatch-llvm.so left in a linked ELF file.
 *
 *   hp_plugin_check entries FILE [--endbr]   check padding/entry of every
 *                                            patchable function recorded
 *   hp_plugin_check dump FILE                print the metadata as text
 *   hp_plugin_check patch FILE               check a patch-mode package
 *
 * Exit 0 when every check holds; messages name the function at fault.
 */
#include "hp_md_reader.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct elf_file {
	int fd;
	Elf *elf;
	size_t shstrndx;
};

static int elf_file_open(struct elf_file *f, const char *path)
{
	elf_version(EV_CURRENT);
	f->fd = open(path, O_RDONLY);
	if (f->fd < 0) {
		perror(path);
		return -1;
	}
	f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
	if (!f->elf || elf_getshdrstrndx(f->elf, &f->shstrndx)) {
		fprintf(stderr, "%s: not an ELF file: %s\n", path, elf_errmsg(-1));
		return -1;
	}
	return 0;
}

static void elf_file_close(struct elf_file *f)
{
	elf_end(f->elf);
	close(f->fd);
}

static Elf_Scn *find_section(struct elf_file *f, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(f->elf, scn))) {
		const char *n;

		gelf_getshdr(scn, sh);
		n = elf_strptr(f->elf, f->shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* Copy len bytes at virtual address addr from an allocated section. */
static int read_vaddr(struct elf_file *f, uint64_t addr, unsigned char *out, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_type == SHT_NOBITS || addr < sh.sh_addr ||
		    addr + len > sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			return -1;
		memcpy(out, (unsigned char *)d->d_buf + (addr - sh.sh_addr), len);
		return 0;
	}
	return -1;
}

/* Is there a symbol called name with value addr (in .symtab or .dynsym)? */
static int symbol_has_value(struct elf_file *f, const char *name, uint64_t addr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d;
		size_t i;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			gelf_getsym(d, (int)i, &sym);
			n = elf_strptr(f->elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name) && sym.st_value == addr)
				return 1;
		}
	}
	return 0;
}

static int load_metadata(struct elf_file *f, const char *path, struct hp_md_iter *it)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(f, HP_MD_SECTION, &sh);
	Elf_Data *d;

	if (!scn || !(d = elf_getdata(scn, NULL)) || !d->d_size) {
		fprintf(stderr, "%s: no %s section\n", path, HP_MD_SECTION);
		return -1;
	}
	if (sh.sh_flags & SHF_ALLOC) {
		fprintf(stderr, "%s: %s is allocated\n", path, HP_MD_SECTION);
		return -1;
	}
	hp_md_iter_init(it, d->d_buf, d->d_size);
	return 0;
}

static const unsigned char nop8[8] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90};
static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};

static int check_function(struct elf_file *f, const struct hp_md_record *rec,
			  const struct hp_md_func_disk *fn, int want_endbr)
{
	const char *name = hp_md_str(rec, fn->name);
	unsigned char b[16];
	int bad = 0;

	if (!(fn->flags & HP_MD_FUNC_PATCHABLE)) {
		const char *why = hp_md_str(rec, fn->not_patchable_reason);

		if (!why || !*why) {
			printf("FAIL %s: not patchable and no reason\n", name);
			return 1;
		}
		printf("note %s: not patchable (%s)\n", name, why);
		return 0;
	}
	if (!fn->address) {
		printf("note %s: discarded by the linker\n", name);
		return 0;
	}
	if (!symbol_has_value(f, name, fn->address)) {
		printf("FAIL %s: address 0x%" PRIx64 " is not its symbol's value\n", name,
		       fn->address);
		bad = 1;
	}
	if (fn->address % 16 != 8) {
		printf("FAIL %s: entry 0x%" PRIx64 " is not 8 mod 16\n", name, fn->address);
		bad = 1;
	}
	if (fn->entry_offset > 4 || read_vaddr(f, fn->address - 8, b, 10 + fn->entry_offset)) {
		printf("FAIL %s: cannot read its code\n", name);
		return 1;
	}
	if (memcmp(b, nop8, 8)) {
		printf("FAIL %s: the 8 bytes before the entry are not NOPs\n", name);
		bad = 1;
	}
	if (!!(fn->flags & HP_MD_FUNC_ENDBR) != !!want_endbr ||
	    fn->entry_offset != ((fn->flags & HP_MD_FUNC_ENDBR) ? 4u : 0u)) {
		printf("FAIL %s: endbr flag/entry_offset %u wrong\n", name, fn->entry_offset);
		bad = 1;
	}
	if ((fn->flags & HP_MD_FUNC_ENDBR) && memcmp(b + 8, endbr64, 4)) {
		printf("FAIL %s: ENDBR recorded but no endbr64 at the entry\n", name);
		bad = 1;
	}
	if (b[8 + fn->entry_offset] != 0x66 || b[9 + fn->entry_offset] != 0x90) {
		printf("FAIL %s: no 66 90 at entry+%u\n", name, fn->entry_offset);
		bad = 1;
	}
	return bad;
}

static int cmd_entries(const char *path, int want_endbr)
{
	struct elf_file f;
	struct hp_md_iter it;
	struct hp_md_record rec;
	unsigned checked = 0, bad = 0;
	int r;

	if (elf_file_open(&f, path) || load_metadata(&f, path, &it))
		return 2;
	while ((r = hp_md_next(&it, &rec)) > 0) {
		for (uint32_t i = 0; i < rec.hdr.func_count; i++) {
			struct hp_md_func_disk fn;

			if (hp_md_func(&rec, i, &fn)) {
				printf("FAIL bad function entry %u\n", i);
				bad++;
				continue;
			}
			bad += (unsigned)check_function(&f, &rec, &fn, want_endbr);
			checked++;
		}
	}
	if (r < 0) {
		printf("FAIL %s: %s\n", path, hp_md_strerror(r));
		bad++;
	}
	if (!checked) {
		printf("FAIL %s: no function recorded\n", path);
		bad++;
	}
	printf("%s: %u functions checked, %u failures\n", path, checked, bad);
	elf_file_close(&f);
	return bad ? 1 : 0;
}

static void print_refs(const struct hp_md_record *rec, const char *label, uint32_t first,
		       uint32_t count)
{
	printf(" %s=", label);
	for (uint32_t i = 0; i < count; i++) {
		const char *s = hp_md_ref(rec, first, i);

		printf("%s%s", i ? "," : "", s ? s : "?");
	}
}

static void dump_record(const struct hp_md_record *rec)
{
	const struct hp_md_tu_disk *h = &rec->hdr;

	printf("tu source=%s cwd=%s output=%s flags=0x%x compiler=%s plugin=%s\n",
	       hp_md_str(rec, h->source), hp_md_str(rec, h->cwd), hp_md_str(rec, h->output),
	       h->flags, hp_md_str(rec, h->compiler_version), hp_md_str(rec, h->plugin_version));
	for (uint32_t i = 0; i < h->argc; i++)
		printf("argv %s\n", hp_md_argv(rec, i));
	for (uint32_t i = 0; i < h->func_count; i++) {
		struct hp_md_func_disk fn;

		if (hp_md_func(rec, i, &fn))
			continue;
		printf("func %s hash=%016" PRIx64 " flags=0x%x entry=%u addr=0x%" PRIx64,
		       hp_md_str(rec, fn.name), fn.hash, fn.flags, fn.entry_offset, fn.address);
		if (fn.origin)
			printf(" origin=%s", hp_md_str(rec, fn.origin));
		if (fn.not_patchable_reason)
			printf(" reason=%s", hp_md_str(rec, fn.not_patchable_reason));
		print_refs(rec, "inlined", fn.inlined_first, fn.inlined_count);
		print_refs(rec, "calls", fn.calls_first, fn.calls_count);
		print_refs(rec, "vars", fn.vars_first, fn.vars_count);
		printf("\n");
	}
	for (uint32_t i = 0; i < h->var_count; i++) {
		struct hp_md_var_disk v;

		hp_md_var(rec, i, &v);
		printf("var %s size=%" PRIu64 " init=%016" PRIx64 " flags=0x%x addr=0x%" PRIx64
		       " owner=%s source=%s\n",
		       hp_md_str(rec, v.name), v.size, v.init_hash, v.flags, v.address,
		       hp_md_str(rec, v.owner), hp_md_str(rec, v.source_name));
	}
}

static int cmd_dump(const char *path)
{
	struct elf_file f;
	struct hp_md_iter it;
	struct hp_md_record rec;
	int r;

	if (elf_file_open(&f, path) || load_metadata(&f, path, &it))
		return 2;
	while ((r = hp_md_next(&it, &rec)) > 0)
		dump_record(&rec);
	elf_file_close(&f);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, hp_md_strerror(r));
		return 1;
	}
	return 0;
}

static int hp_check_patch(const char *path);

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "entries"))
		return cmd_entries(argv[2], argc > 3 && !strcmp(argv[3], "--endbr"));
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return cmd_dump(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "patch"))
		return hp_check_patch(argv[2]);
	fprintf(stderr, "usage: hp_plugin_check entries|dump|patch FILE [--endbr]\n");
	return 2;
}

/* Does any symbol table hold a symbol called name? */
static int has_symbol(struct elf_file *f, const char *name, int defined_only)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			gelf_getsym(d, (int)i, &sym);
			n = elf_strptr(f->elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name) && (!defined_only || sym.st_shndx != SHN_UNDEF))
				return 1;
		}
	}
	return 0;
}

/* Names of the symbols relocations in f refer to, checked against one
 * name: a direct reference to an old symbol bypasses its slot. */
static int relocates_against(struct elf_file *f, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d;
		GElf_Shdr symsh;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_RELA || !sh.sh_link)
			continue;
		if (sh.sh_info) { /* .rela.hotpatch: the metadata's own addresses */
			GElf_Shdr target;
			const char *tn;

			gelf_getshdr(elf_getscn(f->elf, sh.sh_info), &target);
			tn = elf_strptr(f->elf, f->shstrndx, target.sh_name);
			if (tn && !strcmp(tn, HP_MD_SECTION))
				continue;
		}
		gelf_getshdr(elf_getscn(f->elf, sh.sh_link), &symsh);
		Elf_Data *syms = elf_getdata(elf_getscn(f->elf, sh.sh_link), NULL);
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && syms && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			const char *n;

			gelf_getrela(d, (int)i, &r);
			if (!GELF_R_SYM(r.r_info) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym))
				continue;
			n = elf_strptr(f->elf, symsh.sh_link, sym.st_name);
			if (n && !strcmp(n, name))
				return 1;
		}
	}
	return 0;
}

/* Is name a function whose body this record keeps? */
static int is_kept(const struct hp_md_record *rec, const char *name)
{
	for (uint32_t i = 0; i < rec->hdr.func_count; i++) {
		struct hp_md_func_disk fn;

		if (!hp_md_func(rec, i, &fn) && !strcmp(hp_md_str(rec, fn.name), name))
			return 1;
	}
	return 0;
}

static int check_proxy(struct elf_file *f, const struct hp_md_record *rec,
		       const struct hp_md_var_disk *v, int linked)
{
	const char *target = hp_md_str(rec, v->name);
	char slot[512];
	int bad = 0;

	snprintf(slot, sizeof(slot), "__hp_proxy.%s", target);
	if (!has_symbol(f, slot, 1)) {
		printf("FAIL no slot symbol %s\n", slot);
		bad = 1;
	}
	if (!is_kept(rec, target) && has_symbol(f, target, 0)) {
		printf("FAIL old symbol %s still present\n", target);
		bad = 1;
	}
	if (relocates_against(f, target)) {
		printf("FAIL a relocation refers to old symbol %s directly\n", target);
		bad = 1;
	}
	if (linked) {
		GElf_Shdr sh;

		if (!find_section(f, "hotpatch_proxy", &sh) || v->address < sh.sh_addr ||
		    v->address + 8 > sh.sh_addr + sh.sh_size ||
		    !symbol_has_value(f, slot, v->address)) {
			printf("FAIL slot for %s not at its symbol in hotpatch_proxy\n", target);
			bad = 1;
		}
	}
	printf("proxy %s\n", target);
	return bad;
}

static int hp_check_patch(const char *path)
{
	struct elf_file f;
	struct hp_md_iter it;
	struct hp_md_record rec;
	unsigned bad = 0, proxies = 0;
	GElf_Ehdr eh;
	int r, linked;

	if (elf_file_open(&f, path) || load_metadata(&f, path, &it))
		return 2;
	linked = gelf_getehdr(f.elf, &eh) && eh.e_type != ET_REL;
	while ((r = hp_md_next(&it, &rec)) > 0) {
		if (!(rec.hdr.flags & HP_MD_TU_PATCH_MODE)) {
			printf("FAIL record of %s is not a patch-mode record\n",
			       hp_md_str(&rec, rec.hdr.source));
			bad++;
		}
		for (uint32_t i = 0; i < rec.hdr.var_count; i++) {
			struct hp_md_var_disk v;

			hp_md_var(&rec, i, &v);
			if (!(v.flags & HP_MD_VAR_PROXY))
				continue;
			proxies++;
			bad += (unsigned)check_proxy(&f, &rec, &v, linked);
		}
		for (uint32_t i = 0; i < rec.hdr.func_count; i++) {
			struct hp_md_func_disk fn;

			hp_md_func(&rec, i, &fn);
			printf("kept %s\n", hp_md_str(&rec, fn.name));
			if (linked)
				bad += (unsigned)check_function(&f, &rec, &fn, 0);
		}
	}
	if (r < 0) {
		printf("FAIL %s: %s\n", path, hp_md_strerror(r));
		bad++;
	}
	printf("%s: %u proxies, %u failures\n", path, proxies, bad);
	elf_file_close(&f);
	return bad ? 1 : 0;
}
