/* Reader of the .hotpatch section (format: hp_metadata_format.h).
 *
 * The section is untrusted input: every offset, count and string is
 * checked against the record that holds it before use, so a truncated or
 * corrupted section is an error message, never a crash. */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_metadata_format.h"

struct record {
	const uint8_t *base;
	uint64_t size;
	const char *strtab;
	uint32_t strtab_size;
	uint64_t at; /* section offset, for messages */
};

static int bad(struct mp_diag *d, const struct record *r, const char *what)
{
	return mp_fail(d, HP_EMALFORMED, "malformed " HP_MD_SECTION " record at offset %llu: %s",
		       (unsigned long long)r->at, what);
}

static bool range_ok(uint64_t off, uint64_t count, uint64_t elem, uint64_t size)
{
	return off <= size && count <= (size - off) / elem;
}

static int str_at(const struct record *r, uint32_t off, const char **out, struct mp_diag *d)
{
	if (off >= r->strtab_size)
		return bad(d, r, "string offset out of range");
	*out = r->strtab + off;
	return 0;
}

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	uint32_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > UINT32_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	void *p = realloc(*arr, (size_t)n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static int slice(const struct record *r, const struct mp_tu *tu, uint32_t first, uint32_t count,
		 const char ***out, uint32_t *n, struct mp_diag *d)
{
	if (first > tu->nrefs || count > tu->nrefs - first)
		return bad(d, r, "reference list out of range");
	*out = tu->refs + first;
	*n = count;
	return 0;
}

static int parse_func(const struct record *r, struct mp_tu *tu, const struct hp_md_func_disk *fd,
		      struct mp_func *f, struct mp_diag *d)
{
	memset(f, 0, sizeof(*f));
	f->address = fd->address;
	f->hash = fd->hash;
	f->line_hash = fd->line_hash;
	f->flags = fd->flags;
	f->entry_offset = fd->entry_offset;
	f->tu = tu;
	int err = str_at(r, fd->name, &f->name, d);
	if (!err)
		err = str_at(r, fd->origin, &f->origin, d);
	if (!err)
		err = str_at(r, fd->not_patchable_reason, &f->not_patchable_reason, d);
	if (!err)
		err = slice(r, tu, fd->inlined_first, fd->inlined_count, &f->inlined, &f->ninlined,
			    d);
	if (!err)
		err = slice(r, tu, fd->calls_first, fd->calls_count, &f->calls, &f->ncalls, d);
	if (!err)
		err = slice(r, tu, fd->vars_first, fd->vars_count, &f->vars, &f->nvars, d);
	if (!err && !*f->name)
		err = bad(d, r, "function without a name");
	if (!err && f->entry_offset > 16)
		err = bad(d, r, "implausible entry offset");
	return err;
}

static int parse_var(const struct record *r, struct mp_tu *tu, const struct hp_md_var_disk *vd,
		     struct mp_var *v, struct mp_diag *d)
{
	memset(v, 0, sizeof(*v));
	v->address = vd->address;
	v->size = vd->size;
	v->init_hash = vd->init_hash;
	v->flags = vd->flags;
	v->tu = tu;
	int err = str_at(r, vd->name, &v->name, d);
	if (!err)
		err = str_at(r, vd->owner, &v->owner, d);
	if (!err)
		err = str_at(r, vd->source_name, &v->source_name, d);
	if (!err && !*v->name)
		err = bad(d, r, "variable without a name");
	return err;
}

static int parse_tu_strings(const struct record *r, const struct hp_md_tu_disk *h, struct mp_tu *tu,
			    struct mp_diag *d)
{
	int err = str_at(r, h->source, &tu->source, d);
	if (!err)
		err = str_at(r, h->cwd, &tu->cwd, d);
	if (!err)
		err = str_at(r, h->output, &tu->output, d);
	if (!err)
		err = str_at(r, h->compiler_version, &tu->compiler_version, d);
	if (!err)
		err = str_at(r, h->plugin_version, &tu->plugin_version, d);
	if (err)
		return err;
	if (!*tu->source)
		return bad(d, r, "translation unit without a source path");
	if (h->argc > r->strtab_size)
		return bad(d, r, "argc out of range");
	tu->argc = h->argc;
	tu->argv = calloc((size_t)h->argc + 1, sizeof(*tu->argv));
	if (!tu->argv)
		return -ENOMEM;
	uint32_t off = h->argv;
	for (uint32_t i = 0; i < h->argc; i++) {
		err = str_at(r, off, &tu->argv[i], d);
		if (err)
			return err;
		off += (uint32_t)strlen(tu->argv[i]) + 1;
	}
	return 0;
}

static int parse_refs(const struct record *r, const struct hp_md_tu_disk *h, struct mp_tu *tu,
		      struct mp_diag *d)
{
	if (!range_ok(h->ref_offset, h->ref_count, 4, r->size))
		return bad(d, r, "reference array out of range");
	tu->refs = calloc(h->ref_count ? h->ref_count : 1, sizeof(*tu->refs));
	if (!tu->refs)
		return -ENOMEM;
	tu->nrefs = h->ref_count;
	for (uint32_t i = 0; i < h->ref_count; i++) {
		uint32_t off;
		memcpy(&off, r->base + h->ref_offset + 4ull * i, 4);
		int err = str_at(r, off, &tu->refs[i], d);
		if (err)
			return err;
	}
	return 0;
}

struct caps {
	uint32_t tus, funcs, vars;
};

static int parse_record(struct mp_program *p, struct caps *cap, const struct record *r,
			const struct hp_md_tu_disk *h, struct mp_diag *d)
{
	if (!range_ok(h->func_offset, h->func_count, sizeof(struct hp_md_func_disk), r->size) ||
	    !range_ok(h->var_offset, h->var_count, sizeof(struct hp_md_var_disk), r->size))
		return bad(d, r, "function or variable array out of range");
	int err = grow((void **)&p->tus, &cap->tus, p->ntus + 1, sizeof(*p->tus));
	if (!err)
		err = grow((void **)&p->funcs, &cap->funcs, p->nfuncs + h->func_count,
			   sizeof(*p->funcs));
	if (!err)
		err = grow((void **)&p->vars, &cap->vars, p->nvars + h->var_count,
			   sizeof(*p->vars));
	if (err)
		return err;
	/* Functions refer to their TU by index until parsing ends: the array
	 * moves as it grows. */
	struct mp_tu *tu = &p->tus[p->ntus++];
	memset(tu, 0, sizeof(*tu));
	tu->flags = h->flags;
	tu->compiler = h->compiler;
	tu->hash_rules = h->hash_rules;
	err = parse_tu_strings(r, h, tu, d);
	if (!err)
		err = parse_refs(r, h, tu, d);
	for (uint32_t i = 0; !err && i < h->func_count; i++) {
		struct hp_md_func_disk fd;
		memcpy(&fd, r->base + h->func_offset + sizeof(fd) * i, sizeof(fd));
		err = parse_func(r, tu, &fd, &p->funcs[p->nfuncs], d);
		if (!err)
			p->funcs[p->nfuncs++].tu = (struct mp_tu *)(uintptr_t)(p->ntus - 1);
	}
	for (uint32_t i = 0; !err && i < h->var_count; i++) {
		struct hp_md_var_disk vd;
		memcpy(&vd, r->base + h->var_offset + sizeof(vd) * i, sizeof(vd));
		err = parse_var(r, tu, &vd, &p->vars[p->nvars], d);
		if (!err)
			p->vars[p->nvars++].tu = (struct mp_tu *)(uintptr_t)(p->ntus - 1);
	}
	return err;
}

static int check_header(const uint8_t *md, size_t size, uint64_t off, struct hp_md_tu_disk *h,
			struct record *r, struct mp_diag *d)
{
	r->at = off;
	r->base = md + off;
	r->size = size - off;
	if (size - off < sizeof(*h))
		return bad(d, r, "truncated header");
	memcpy(h, md + off, sizeof(*h));
	if (memcmp(h->magic, HP_MD_MAGIC, 4))
		return bad(d, r, "bad magic");
	if (h->version != HP_MD_VERSION)
		return mp_fail(d, HP_EMALFORMED,
			       HP_MD_SECTION " version %u not supported (want %u)", h->version,
			       HP_MD_VERSION);
	if (h->header_size < sizeof(*h) || h->record_size < h->header_size ||
	    h->record_size % HP_MD_ALIGN || h->record_size > size - off)
		return bad(d, r, "bad header or record size");
	r->size = h->record_size;
	if (!range_ok(h->strtab_offset, h->strtab_size, 1, r->size) || h->strtab_size == 0)
		return bad(d, r, "string table out of range");
	r->strtab = (const char *)r->base + h->strtab_offset;
	r->strtab_size = h->strtab_size;
	if (r->strtab[0] || r->strtab[r->strtab_size - 1])
		return bad(d, r, "string table not terminated");
	return 0;
}

static int index_program(struct mp_program *p)
{
	for (uint32_t i = 0; i < p->nfuncs; i++)
		p->funcs[i].tu = &p->tus[(uintptr_t)p->funcs[i].tu];
	for (uint32_t i = 0; i < p->nvars; i++)
		p->vars[i].tu = &p->tus[(uintptr_t)p->vars[i].tu];
	for (uint32_t i = 0; i < p->ntus; i++) {
		void *old;
		int err = mp_map_put(&p->tu_by_source, p->tus[i].source, "", &p->tus[i], &old);
		if (err)
			return err;
		if (old) /* the same file compiled twice: keep the first */
			mp_map_put(&p->tu_by_source, p->tus[i].source, "", old, NULL);
	}
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		struct mp_func *f = &p->funcs[i];
		const char *scope = f->flags & HP_MD_FUNC_EXTERNAL ? "" : f->tu->source;
		void *old;
		int err = mp_map_put(&p->func_by_name, f->name, scope, f, &old);
		if (err)
			return err;
		f->next_same_key = old;
	}
	for (uint32_t i = 0; i < p->nvars; i++) {
		struct mp_var *v = &p->vars[i];
		if (v->flags & (HP_MD_VAR_PROXY | HP_MD_VAR_DECLARATION))
			continue;
		const char *scope = v->flags & HP_MD_VAR_EXTERNAL ? "" : v->tu->source;
		int err = mp_map_put(&p->var_by_name, v->name, scope, v, NULL);
		if (err)
			return err;
	}
	return 0;
}

int mp_metadata_parse(struct mp_program *p, const uint8_t *md, size_t size, struct mp_diag *d)
{
	struct caps cap = {0};
	uint64_t off = 0;
	while (off < size) {
		/* Tolerate zero padding a linker may put between records. */
		if (size - off >= 8 && !memcmp(md + off, "\0\0\0\0\0\0\0\0", 8)) {
			off += 8;
			continue;
		}
		struct hp_md_tu_disk h;
		struct record r = {0};
		int err = check_header(md, size, off, &h, &r, d);
		if (!err)
			err = parse_record(p, &cap, &r, &h, d);
		if (err)
			return err;
		off += h.record_size;
	}
	return index_program(p);
}

static void set_sizes(struct mp_program *p)
{
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		struct mp_func *f = &p->funcs[i];
		if (!f->address)
			continue;
		const struct mp_sym *s =
			mp_elf_sym_at(&p->elf, f->address, 2 /* STT_FUNC */, f->name);
		if (!s)
			s = mp_elf_sym_at(&p->elf, f->address, 2, NULL);
		f->size = s ? s->size : 0;
	}
}

int mp_program_open(struct mp_program *p, const char *path, const char *label, struct mp_diag *d)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	int err = mp_elf_open(&p->elf, path, d);
	if (err)
		return err;
	if (!p->elf.md)
		return mp_fail(d, HP_ENOMETA,
			       "'%s': no %s section: not built with the hotpatch plugin", path,
			       HP_MD_SECTION);
	err = mp_metadata_parse(p, p->elf.md, p->elf.md_size, d);
	if (err) {
		if (err == -HP_EMALFORMED) {
			char msg[sizeof(d->msg)];
			memcpy(msg, d->msg, sizeof(msg));
			mp_fail(d, HP_EMALFORMED, "'%s': %s", path, msg);
		}
		return err;
	}
	if (!p->ntus)
		return mp_fail(d, HP_ENOMETA, "'%s': empty %s section", path, HP_MD_SECTION);
	set_sizes(p);
	return 0;
}

void mp_program_release(struct mp_program *p)
{
	for (uint32_t i = 0; i < p->ntus; i++) {
		free(p->tus[i].argv);
		free(p->tus[i].refs);
	}
	for (uint32_t i = 0; i < p->nfuncs; i++)
		free((char *)p->funcs[i].norm);
	free(p->tus);
	free(p->funcs);
	free(p->vars);
	mp_map_release(&p->func_by_name);
	mp_map_release(&p->var_by_name);
	mp_map_release(&p->tu_by_source);
	mp_elf_close(&p->elf);
	memset(p, 0, sizeof(*p));
}

struct mp_func *mp_find_func(const struct mp_program *p, const char *name, const struct mp_tu *tu)
{
	struct mp_func *f = tu ? mp_map_get(&p->func_by_name, name, tu->source) : NULL;
	return f ? f : mp_map_get(&p->func_by_name, name, "");
}

struct mp_var *mp_find_var(const struct mp_program *p, const char *name, const struct mp_tu *tu)
{
	struct mp_var *v = tu ? mp_map_get(&p->var_by_name, name, tu->source) : NULL;
	return v ? v : mp_map_get(&p->var_by_name, name, "");
}
