/* hp_plugin_check: reads what hotpatch-llvm.so or hotpatch-gcc.so left in
 * an ELF file (object, executable or shared object).
 *
 *   hp_plugin_check entries FILE [--endbr=all|some|none]
 *       check padding, alignment and entry of every function recorded,
 *       against its symbol; with --endbr also how many carry endbr64
 *   hp_plugin_check dump FILE
 *       print the metadata, one line per item
 *   hp_plugin_check patch FILE
 *       check a patch-mode object or package: each proxy slot exists (in
 *       hotpatch_proxy once linked), no relocation names an old symbol,
 *       dropped bodies are gone; prints "kept F" and "proxy T" lines
 *
 * endbr64 is checked per function from the metadata: HP_MD_FUNC_ENDBR must
 * match the bytes at the entry, and entry_offset is 4 with it, else 0.
 * (Clang puts endbr64 on every function under -fcf-protection=branch, since
 * the plugin makes them all address-taken; GCC only on functions that may
 * be reached indirectly.) --endbr=all|some|none adds a count check over the
 * patchable functions. Exit 0 when every check holds; messages name the
 * function at fault.
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

struct hp_elf {
	int fd;
	Elf *elf;
	size_t shstrndx;
};

static int hp_elf_open(struct hp_elf *f, const char *path)
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
		close(f->fd);
		return -1;
	}
	return 0;
}

static void hp_elf_close(struct hp_elf *f)
{
	elf_end(f->elf);
	close(f->fd);
}

static int hp_elf_read(struct hp_elf *f, uint64_t addr, unsigned char *out, size_t len)
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

static int hp_elf_has_symbol(struct hp_elf *f, const char *name, uint64_t value)
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
			if (n && !strcmp(n, name) && sym.st_value == value)
				return 1;
		}
	}
	return 0;
}

static int hp_elf_metadata(struct hp_elf *f, const char *path, struct hp_md_iter *it)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		const char *n;
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		n = elf_strptr(f->elf, f->shstrndx, sh.sh_name);
		if (!n || strcmp(n, HP_MD_SECTION))
			continue;
		if (sh.sh_flags & SHF_ALLOC) {
			fprintf(stderr, "%s: %s is allocated\n", path, HP_MD_SECTION);
			return -1;
		}
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_size)
			break;
		memset(it, 0, sizeof(*it));
		hp_md_iter_init(it, d->d_buf, d->d_size);
		return 0;
	}
	fprintf(stderr, "%s: no %s section\n", path, HP_MD_SECTION);
	return -1;
}

static const unsigned char hp_nop5[5] = {0x90, 0x90, 0x90, 0x90, 0x90};
static const unsigned char hp_endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};

static int hp_check_func(struct hp_elf *f, const struct hp_md_record *rec,
			 const struct hp_md_func_disk *fn, unsigned *entries, unsigned *endbrs)
{
	const char *name = hp_md_str(rec, fn->name);
	int is_endbr = !!(fn->flags & HP_MD_FUNC_ENDBR);
	unsigned char b[14];
	int bad = 0;

	if (fn->address && !hp_elf_has_symbol(f, name, fn->address)) {
		printf("FAIL %s: address 0x%" PRIx64 " is not its symbol's value\n", name,
		       fn->address);
		bad = 1;
	}
	if (!(fn->flags & HP_MD_FUNC_PATCHABLE)) {
		const char *why = hp_md_str(rec, fn->not_patchable_reason);

		if (!why || !*why) {
			printf("FAIL %s: not patchable and no reason\n", name);
			return 1;
		}
		printf("note %s: not patchable (%s)\n", name, why);
		return bad;
	}
	if (!fn->address)
		return bad;
	/* the padding starts the function's 16 bytes; it and the entry share
	 * their first aligned quadword */
	if (fn->address % 16 != 5) {
		printf("FAIL %s: entry 0x%" PRIx64 " is not 5 mod 16\n", name, fn->address);
		bad = 1;
	}
	if (fn->entry_offset != (is_endbr ? 4u : 0u)) {
		printf("FAIL %s: entry_offset %u with ENDBR=%d\n", name, fn->entry_offset,
		       is_endbr);
		return 1;
	}
	/* 5 NOPs, [endbr64,] 66 90: no more, a tiny function may end the section */
	if (hp_elf_read(f, fn->address - 5, b, 7 + fn->entry_offset)) {
		printf("FAIL %s: cannot read its code\n", name);
		return 1;
	}
	if (memcmp(b, hp_nop5, 5)) {
		printf("FAIL %s: the 5 bytes before the entry are not NOPs\n", name);
		bad = 1;
	}
	if (is_endbr ? memcmp(b + 5, hp_endbr64, 4) != 0 : b[5] == hp_endbr64[0]) {
		printf("FAIL %s: ENDBR flag %d does not match the code\n", name, is_endbr);
		bad = 1;
	}
	/* ENTRY_INSN: the compiler's first instruction is the entry (its length
	 * is checked with a disassembler by test_entries.sh) */
	if (!(fn->flags & HP_MD_FUNC_ENTRY_INSN) &&
	    (b[5 + fn->entry_offset] != 0x66 || b[6 + fn->entry_offset] != 0x90)) {
		printf("FAIL %s: no 66 90 at entry+%u\n", name, fn->entry_offset);
		bad = 1;
	}
	*entries += 1;
	*endbrs += (unsigned)is_endbr;
	return bad;
}

/* Opens path and finds its metadata; on failure nothing stays open. */
static int hp_elf_open_metadata(struct hp_elf *f, const char *path, struct hp_md_iter *it)
{
	if (hp_elf_open(f, path))
		return -1;
	if (hp_elf_metadata(f, path, it)) {
		hp_elf_close(f);
		return -1;
	}
	return 0;
}

enum hp_endbr_want { HP_ENDBR_ANY, HP_ENDBR_ALL, HP_ENDBR_SOME, HP_ENDBR_NONE };

static int hp_cmd_entries(const char *path, enum hp_endbr_want want)
{
	unsigned checked = 0, patchable = 0, entries = 0, endbrs = 0, bad = 0;
	struct hp_md_record rec;
	struct hp_md_iter it;
	struct hp_elf f;
	int r;

	if (hp_elf_open_metadata(&f, path, &it))
		return 2;
	while ((r = hp_md_next(&it, &rec)) > 0) {
		for (uint32_t i = 0; i < rec.hdr.func_count; i++) {
			struct hp_md_func_disk fn;

			if (hp_md_func(&rec, i, &fn)) {
				printf("FAIL bad function entry %u\n", i);
				bad++;
				continue;
			}
			bad += (unsigned)hp_check_func(&f, &rec, &fn, &entries, &endbrs);
			checked++;
			patchable += !!(fn.flags & HP_MD_FUNC_PATCHABLE);
		}
	}
	if (r < 0) {
		printf("FAIL %s: %s\n", path, hp_strerror(r));
		bad++;
	}
	if (!checked) {
		printf("FAIL %s: no function recorded\n", path);
		bad++;
	}
	if ((want == HP_ENDBR_ALL && endbrs != entries) || (want == HP_ENDBR_SOME && !endbrs) ||
	    (want == HP_ENDBR_NONE && endbrs)) {
		printf("FAIL %s: %u of %u entries checked with endbr64, not as expected\n", path,
		       endbrs, entries);
		bad++;
	}
	printf("%s: %u functions, %u patchable, %u with endbr64, %u failures\n", path, checked,
	       patchable, endbrs, bad);
	hp_elf_close(&f);
	return bad ? 1 : 0;
}

static void hp_print_refs(const struct hp_md_record *rec, const char *label, uint32_t first,
			  uint32_t count)
{
	printf(" %s=", label);
	for (uint32_t i = 0; i < count; i++) {
		const char *s = hp_md_ref(rec, first, i);

		printf("%s%s", i ? "," : "", s ? s : "?");
	}
}

static void hp_dump_record(const struct hp_md_record *rec)
{
	const struct hp_md_tu_disk *h = &rec->hdr;

	printf("tu source=%s cwd=%s output=%s flags=0x%x compiler=%s plugin=%s\n",
	       hp_md_str(rec, h->source), hp_md_str(rec, h->cwd), hp_md_str(rec, h->output),
	       h->flags, hp_md_str(rec, h->compiler_version), hp_md_str(rec, h->plugin_version));
	/* the whole command in one walk: hp_md_argv(i) walks from the start */
	const char **argv = calloc(h->argc + 1, sizeof(*argv));

	if (argv && hp_md_argv_all(rec, argv) == 0)
		for (uint32_t i = 0; i < h->argc; i++)
			printf("argv %s\n", argv[i]);
	free(argv);
	for (uint32_t i = 0; i < h->func_count; i++) {
		struct hp_md_func_disk fn;

		if (hp_md_func(rec, i, &fn))
			continue;
		printf("func %s hash=%016" PRIx64 " flags=0x%x entry=%u addr=0x%" PRIx64,
		       hp_md_str(rec, fn.name), fn.hash, fn.flags, fn.entry_offset, fn.address);
		if (fn.origin)
			printf(" origin=%s", hp_md_str(rec, fn.origin));
		hp_print_refs(rec, "inlined", fn.inlined_first, fn.inlined_count);
		hp_print_refs(rec, "calls", fn.calls_first, fn.calls_count);
		hp_print_refs(rec, "vars", fn.vars_first, fn.vars_count);
		if (fn.line_hash)
			printf(" lines=%08" PRIx32, fn.line_hash);
		if (fn.not_patchable_reason)
			printf(" reason=\"%s\"", hp_md_str(rec, fn.not_patchable_reason));
		printf("\n");
	}
	for (uint32_t i = 0; i < h->var_count; i++) {
		struct hp_md_var_disk v;

		if (hp_md_var(rec, i, &v))
			continue;
		printf("var %s size=%" PRIu64 " init=%016" PRIx64 " flags=0x%x addr=0x%" PRIx64
		       " owner=%s source=%s\n",
		       hp_md_str(rec, v.name), v.size, v.init_hash, v.flags, v.address,
		       hp_md_str(rec, v.owner), hp_md_str(rec, v.source_name));
	}
}

static int hp_cmd_dump(const char *path)
{
	struct hp_md_record rec;
	struct hp_md_iter it;
	struct hp_elf f;
	int r;

	if (hp_elf_open_metadata(&f, path, &it))
		return 2;
	while ((r = hp_md_next(&it, &rec)) > 0)
		hp_dump_record(&rec);
	hp_elf_close(&f);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, hp_strerror(r));
		return 1;
	}
	return 0;
}

/* ---- patch mode -------------------------------------------------------- */

static Elf_Scn *hp_elf_section(struct hp_elf *f, const char *name, GElf_Shdr *sh)
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

/* Is there a symbol called name in .symtab or .dynsym (with defined_only,
 * not SHN_UNDEF)? It is copied to *out. */
static int hp_elf_find_symbol(struct hp_elf *f, const char *name, int defined_only, GElf_Sym *out)
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
			if (n && !strcmp(n, name) && (!defined_only || sym.st_shndx != SHN_UNDEF)) {
				if (out)
					*out = sym;
				return 1;
			}
		}
	}
	return 0;
}

/* Does a relocation (other than the metadata's own) name symbol name? */
static int hp_elf_relocates_against(struct hp_elf *f, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d, *syms;
		GElf_Shdr symsh;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_RELA || !sh.sh_link)
			continue;
		if (sh.sh_info) {
			GElf_Shdr target;
			const char *tn;

			gelf_getshdr(elf_getscn(f->elf, sh.sh_info), &target);
			tn = elf_strptr(f->elf, f->shstrndx, target.sh_name);
			if (tn && !strcmp(tn, HP_MD_SECTION))
				continue;
		}
		gelf_getshdr(elf_getscn(f->elf, sh.sh_link), &symsh);
		syms = elf_getdata(elf_getscn(f->elf, sh.sh_link), NULL);
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

static int hp_is_kept(const struct hp_md_record *rec, const char *name)
{
	for (uint32_t i = 0; i < rec->hdr.func_count; i++) {
		struct hp_md_func_disk fn;

		if (!hp_md_func(rec, i, &fn) && !strcmp(hp_md_str(rec, fn.name), name))
			return 1;
	}
	return 0;
}

static int hp_check_proxy(struct hp_elf *f, const struct hp_md_record *rec,
			  const struct hp_md_var_disk *v, int linked)
{
	const char *target = hp_md_str(rec, v->name);
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Scn *proxy = hp_elf_section(f, "hotpatch_proxy", &sh);
	char slot[512];
	int bad = 0;

	snprintf(slot, sizeof(slot), "__hp_proxy.%s", target);
	if (!hp_elf_find_symbol(f, slot, 1, &sym)) {
		printf("FAIL no slot symbol %s\n", slot);
		bad = 1;
	} else if (!proxy || sym.st_shndx != elf_ndxscn(proxy) || sym.st_size != 8 ||
		   GELF_ST_BIND(sym.st_info) != STB_LOCAL) {
		printf("FAIL slot %s is not a local 8-byte object in hotpatch_proxy\n", slot);
		bad = 1;
	}
	if (proxy && (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_WRITE))) {
		printf("FAIL hotpatch_proxy is not writable PROGBITS\n");
		bad = 1;
	}
	if (v->size != 8 || strcmp(hp_md_str(rec, v->source_name), target)) {
		printf("FAIL proxy record of %s: size %" PRIu64 " source %s\n", target, v->size,
		       hp_md_str(rec, v->source_name));
		bad = 1;
	}
	if (!hp_is_kept(rec, target) && hp_elf_find_symbol(f, target, 0, NULL)) {
		printf("FAIL old symbol %s still present\n", target);
		bad = 1;
	}
	if (hp_elf_relocates_against(f, target)) {
		printf("FAIL a relocation refers to old symbol %s directly\n", target);
		bad = 1;
	}
	if (linked &&
	    (!proxy || v->address < sh.sh_addr || v->address + 8 > sh.sh_addr + sh.sh_size ||
	     !hp_elf_has_symbol(f, slot, v->address))) {
		printf("FAIL slot for %s not at its symbol in hotpatch_proxy\n", target);
		bad = 1;
	}
	printf("proxy %s\n", target);
	return bad;
}

static int hp_cmd_patch(const char *path)
{
	unsigned bad = 0, proxies = 0, entries = 0, endbrs = 0;
	struct hp_md_record rec;
	struct hp_md_iter it;
	struct hp_elf f;
	GElf_Ehdr eh;
	int r, linked;

	if (hp_elf_open_metadata(&f, path, &it))
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

			if (hp_md_var(&rec, i, &v) || !(v.flags & HP_MD_VAR_PROXY))
				continue;
			proxies++;
			bad += (unsigned)hp_check_proxy(&f, &rec, &v, linked);
		}
		for (uint32_t i = 0; i < rec.hdr.func_count; i++) {
			struct hp_md_func_disk fn;

			if (hp_md_func(&rec, i, &fn))
				continue;
			printf("kept %s\n", hp_md_str(&rec, fn.name));
			if (linked)
				bad += (unsigned)hp_check_func(&f, &rec, &fn, &entries, &endbrs);
		}
	}
	if (r < 0) {
		printf("FAIL %s: %s\n", path, hp_strerror(r));
		bad++;
	}
	printf("%s: %u proxies, %u failures\n", path, proxies, bad);
	hp_elf_close(&f);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const wants[] = {"", "--endbr=all", "--endbr=some", "--endbr=none"};

	if (argc == 3 && !strcmp(argv[1], "entries"))
		return hp_cmd_entries(argv[2], HP_ENDBR_ANY);
	if (argc == 4 && !strcmp(argv[1], "entries")) {
		for (int w = HP_ENDBR_ALL; w <= HP_ENDBR_NONE; w++)
			if (!strcmp(argv[3], wants[w]))
				return hp_cmd_entries(argv[2], (enum hp_endbr_want)w);
	}
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return hp_cmd_dump(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "patch"))
		return hp_cmd_patch(argv[2]);
	fprintf(stderr, "usage: hp_plugin_check entries FILE [--endbr=all|some|none]\n"
			"       hp_plugin_check dump|patch FILE\n");
	return 2;
}
