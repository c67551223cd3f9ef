/* mkpatch's model of a binary's .hotpatch section (format:
 * hp_metadata_format.h).
 *
 * The section is untrusted input. format/metadata/hp_md_reader.c decodes
 * and checks it — every offset, count and string against the record that
 * holds it — so a truncated or corrupted section is an error message,
 * never a crash. This file only turns the records it hands out into
 * mp_tu, mp_func and mp_var, and indexes them by name. */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_md_reader.h"
#include "hp_metadata_format.h"

/* A record the reader refused, in the words mkpatch has always used. */
static int refused(struct mp_diag *d, const struct hp_md_iter *it, const struct hp_md_record *rec,
		   int err)
{
	if (err == -HP_EMD_VERSION)
		return mp_fail(d, HP_EMALFORMED,
			       HP_MD_SECTION " version %u not supported (want %u)",
			       rec->hdr.version, HP_MD_VERSION);
	return mp_fail(d, HP_EMALFORMED, "malformed " HP_MD_SECTION " record at offset %llu: %s",
		       (unsigned long long)it->error_offset, it->why ? it->why : hp_strerror(-err));
}

/* An accessor failed on a record the reader checked: cannot happen. */
static int inconsistent(struct mp_diag *d, const struct hp_md_record *rec)
{
	return mp_fail(d, HP_EMALFORMED,
		       "malformed " HP_MD_SECTION " record at offset %llu: inconsistent record",
		       (unsigned long long)rec->offset);
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

static void add_func(const struct hp_md_record *rec, struct mp_tu *tu,
		     const struct hp_md_func_disk *fd, struct mp_func *f)
{
	memset(f, 0, sizeof(*f));
	f->address = fd->address;
	f->hash = fd->hash;
	f->line_hash = fd->line_hash;
	f->flags = fd->flags;
	f->entry_offset = fd->entry_offset;
	f->name = hp_md_str(rec, fd->name);
	f->origin = hp_md_str(rec, fd->origin);
	f->not_patchable_reason = hp_md_str(rec, fd->not_patchable_reason);
	/* the reader checked that each list is a slice of refs[] */
	f->inlined = tu->refs + fd->inlined_first;
	f->ninlined = fd->inlined_count;
	f->calls = tu->refs + fd->calls_first;
	f->ncalls = fd->calls_count;
	f->vars = tu->refs + fd->vars_first;
	f->nvars = fd->vars_count;
}

static void add_var(const struct hp_md_record *rec, const struct hp_md_var_disk *vd,
		    struct mp_var *v)
{
	memset(v, 0, sizeof(*v));
	v->address = vd->address;
	v->size = vd->size;
	v->init_hash = vd->init_hash;
	v->flags = vd->flags;
	v->name = hp_md_str(rec, vd->name);
	v->owner = hp_md_str(rec, vd->owner);
	v->source_name = hp_md_str(rec, vd->source_name);
}

static int add_tu(const struct hp_md_record *rec, struct mp_tu *tu, struct mp_diag *d)
{
	const struct hp_md_tu_disk *h = &rec->hdr;

	memset(tu, 0, sizeof(*tu));
	tu->flags = h->flags;
	tu->compiler = h->compiler;
	tu->hash_rules = h->hash_rules;
	tu->source = hp_md_str(rec, h->source);
	tu->cwd = hp_md_str(rec, h->cwd);
	tu->output = hp_md_str(rec, h->output);
	tu->compiler_version = hp_md_str(rec, h->compiler_version);
	tu->plugin_version = hp_md_str(rec, h->plugin_version);
	tu->argc = h->argc;
	tu->argv = calloc((size_t)h->argc + 1, sizeof(*tu->argv));
	if (!tu->argv)
		return -ENOMEM;
	if (hp_md_argv_all(rec, tu->argv))
		return inconsistent(d, rec);
	tu->refs = calloc(h->ref_count ? h->ref_count : 1, sizeof(*tu->refs));
	if (!tu->refs)
		return -ENOMEM;
	tu->nrefs = h->ref_count;
	for (uint32_t i = 0; i < h->ref_count; i++)
		tu->refs[i] = hp_md_ref(rec, 0, i);
	return 0;
}

struct caps {
	uint32_t tus, funcs, vars;
};

static int add_record(struct mp_program *p, struct caps *cap, const struct hp_md_record *rec,
		      struct mp_diag *d)
{
	const struct hp_md_tu_disk *h = &rec->hdr;
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
	err = add_tu(rec, tu, d);
	for (uint32_t i = 0; !err && i < h->func_count; i++) {
		struct hp_md_func_disk fd;
		if (hp_md_func(rec, i, &fd))
			return inconsistent(d, rec);
		add_func(rec, tu, &fd, &p->funcs[p->nfuncs]);
		p->funcs[p->nfuncs++].tu = (struct mp_tu *)(uintptr_t)(p->ntus - 1);
	}
	for (uint32_t i = 0; !err && i < h->var_count; i++) {
		struct hp_md_var_disk vd;
		if (hp_md_var(rec, i, &vd))
			return inconsistent(d, rec);
		add_var(rec, &vd, &p->vars[p->nvars]);
		p->vars[p->nvars++].tu = (struct mp_tu *)(uintptr_t)(p->ntus - 1);
	}
	return err;
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
	struct hp_md_iter it;
	struct hp_md_record rec;
	int r;

	hp_md_iter_init(&it, md, size);
	while ((r = hp_md_next(&it, &rec)) > 0) {
		int err = add_record(p, &cap, &rec, d);
		if (err)
			return err;
	}
	if (r < 0)
		return refused(d, &it, &rec, r);
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
