#include "hp_md_writer.h"

#include "hp_metadata_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable byte buffer; text and binary alike. */
struct hp_buf {
	char *data;
	size_t len;
	size_t cap;
	int error;
};

static void hp_buf_reserve(struct hp_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->error || b->len + more <= b->cap)
		return;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->error = -ENOMEM;
		return;
	}
	b->data = p;
	b->cap = cap;
}

static void hp_buf_add(struct hp_buf *b, const void *p, size_t n)
{
	hp_buf_reserve(b, n);
	if (b->error)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

__attribute__((format(printf, 2, 3))) static void hp_buf_printf(struct hp_buf *b, const char *fmt,
								...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->error = -EINVAL;
		return;
	}
	hp_buf_reserve(b, (size_t)n + 1);
	if (b->error)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The string table, each distinct string stored once. */
struct hp_strtab {
	struct hp_buf buf;
	uint32_t *slots; /* open addressing: offset + 1, 0 = empty */
	size_t nslots;
	size_t used;
};

static uint64_t hp_str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int hp_strtab_grow(struct hp_strtab *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));
	size_t i;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->nslots; i++) {
		uint32_t v = t->slots[i];
		size_t j;

		if (!v)
			continue;
		j = hp_str_hash(t->buf.data + v - 1) & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = v;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

/* Offset of s in the table, adding it if new; 0 for NULL or "". */
static uint32_t hp_strtab_add(struct hp_strtab *t, const char *s)
{
	size_t j, len;
	uint32_t off;

	if (!s || !*s || t->buf.error)
		return 0;
	if ((t->used + 1) * 2 > t->nslots && hp_strtab_grow(t)) {
		t->buf.error = -ENOMEM;
		return 0;
	}
	j = hp_str_hash(s) & (t->nslots - 1);
	while (t->slots[j]) {
		if (!strcmp(t->buf.data + t->slots[j] - 1, s))
			return t->slots[j] - 1;
		j = (j + 1) & (t->nslots - 1);
	}
	len = strlen(s) + 1;
	if (t->buf.len + len > UINT32_MAX) {
		t->buf.error = -E2BIG;
		return 0;
	}
	off = (uint32_t)t->buf.len;
	hp_buf_add(&t->buf, s, len);
	if (t->buf.error)
		return 0;
	t->slots[j] = off + 1;
	t->used++;
	return off;
}

/* Where an address field needs ".quad sym" instead of data. */
struct hp_reloc {
	size_t offset;
	const char *sym;
};

struct hp_md_enc {
	struct hp_strtab strtab;
	uint32_t *refs;
	size_t ref_count;
	size_t ref_cap;
	struct hp_reloc *relocs;
	size_t reloc_count;
	int error;
};

/* Append a list of names to refs[]; returns the index of the first. */
static uint32_t hp_enc_refs(struct hp_md_enc *e, const char *const *names, size_t n)
{
	uint32_t first = (uint32_t)e->ref_count;
	size_t i;

	if (e->ref_count + n > e->ref_cap) {
		size_t cap = e->ref_cap ? e->ref_cap : 64;
		uint32_t *p;

		while (cap < e->ref_count + n)
			cap *= 2;
		p = realloc(e->refs, cap * sizeof(*p));
		if (!p) {
			e->error = -ENOMEM;
			return 0;
		}
		e->refs = p;
		e->ref_cap = cap;
	}
	for (i = 0; i < n; i++)
		e->refs[e->ref_count++] = hp_strtab_add(&e->strtab, names[i]);
	return first;
}

static size_t hp_align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Symbols made only of [A-Za-z0-9_.$] go bare; others are quoted. */
static int hp_sym_is_plain(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '$'))
			return 0;
	return 1;
}

static void hp_emit_quad(struct hp_buf *out, const char *sym)
{
	if (hp_sym_is_plain(sym)) {
		hp_buf_printf(out, "\t.quad %s\n", sym);
		return;
	}
	hp_buf_printf(out, "\t.quad \"");
	for (; *sym; sym++) {
		if (*sym == '"' || *sym == '\\')
			hp_buf_printf(out, "\\%c", *sym);
		else
			hp_buf_printf(out, "%c", *sym);
	}
	hp_buf_printf(out, "\"\n");
}

/* Print the record: .byte runs, broken by .quad at each relocation. */
static void hp_emit_text(struct hp_buf *out, const unsigned char *rec, size_t size,
			 const struct hp_reloc *relocs, size_t nrelocs)
{
	size_t pos = 0, r = 0;

	/* "R" (SHF_GNU_RETAIN): ld --gc-sections drops a non-allocated
	 * section that has relocations unless it is retained. */
	hp_buf_printf(out,
		      "\t.pushsection " HP_MD_SECTION ",\"R\",@progbits\n"
		      "\t.balign %d\n",
		      HP_MD_ALIGN);
	while (pos < size) {
		size_t end = r < nrelocs ? relocs[r].offset : size;
		size_t col = 0;

		if (pos == end) {
			hp_emit_quad(out, relocs[r].sym);
			pos += 8;
			r++;
			continue;
		}
		for (; pos < end; pos++, col++) {
			if (col % 32 == 0)
				hp_buf_printf(out, "%s\t.byte %u", col ? "\n" : "", rec[pos]);
			else
				hp_buf_printf(out, ",%u", rec[pos]);
		}
		hp_buf_printf(out, "\n");
	}
	hp_buf_printf(out, "\t.popsection\n");
}

static void hp_put32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void hp_put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Strings and ref lists first: the table must be complete before layout. */
static int hp_enc_strings(struct hp_md_enc *e, const struct hp_md_tu_desc *tu,
			  const struct hp_md_func_desc *funcs, size_t nf,
			  const struct hp_md_var_desc *vars, size_t nv, uint32_t (*fr)[3],
			  uint32_t *argv0)
{
	size_t i;

	/* offset 0 is the empty string */
	hp_buf_add(&e->strtab.buf, "", 1);
	/* argv must be consecutive, so add it without interning */
	*argv0 = (uint32_t)e->strtab.buf.len;
	for (i = 0; i < tu->argc; i++) {
		const char *a = tu->argv[i] ? tu->argv[i] : "";

		hp_buf_add(&e->strtab.buf, a, strlen(a) + 1);
	}
	for (i = 0; i < nf; i++) {
		if (!funcs[i].name)
			return -EINVAL;
		fr[i][0] = hp_enc_refs(e, funcs[i].inlined, funcs[i].inlined_count);
		fr[i][1] = hp_enc_refs(e, funcs[i].calls, funcs[i].calls_count);
		fr[i][2] = hp_enc_refs(e, funcs[i].vars, funcs[i].vars_count);
	}
	for (i = 0; i < nv; i++)
		if (!vars[i].name)
			return -EINVAL;
	if (e->strtab.buf.len > UINT32_MAX)
		return -E2BIG;
	return e->error ? e->error : e->strtab.buf.error;
}

static void hp_enc_func(struct hp_md_enc *e, unsigned char *p, size_t off,
			const struct hp_md_func_desc *f, const uint32_t fr[3])
{
	struct hp_strtab *t = &e->strtab;

	if (f->asm_name)
		e->relocs[e->reloc_count++] = (struct hp_reloc){off, f->asm_name};
	hp_put64(p + 8, f->hash);
	hp_put32(p + 16, hp_strtab_add(t, f->name));
	hp_put32(p + 20, f->flags);
	hp_put32(p + 24, f->entry_offset);
	hp_put32(p + 28, hp_strtab_add(t, f->origin));
	hp_put32(p + 32, hp_strtab_add(t, f->not_patchable_reason));
	hp_put32(p + 36, fr[0]);
	hp_put32(p + 40, (uint32_t)f->inlined_count);
	hp_put32(p + 44, fr[1]);
	hp_put32(p + 48, (uint32_t)f->calls_count);
	hp_put32(p + 52, fr[2]);
	hp_put32(p + 56, (uint32_t)f->vars_count);
	hp_put32(p + 60, f->line_hash);
}

static void hp_enc_var(struct hp_md_enc *e, unsigned char *p, size_t off,
		       const struct hp_md_var_desc *v)
{
	struct hp_strtab *t = &e->strtab;

	if (v->asm_name)
		e->relocs[e->reloc_count++] = (struct hp_reloc){off, v->asm_name};
	hp_put64(p + 8, v->size);
	hp_put64(p + 16, v->init_hash);
	hp_put32(p + 24, hp_strtab_add(t, v->name));
	hp_put32(p + 28, v->flags);
	hp_put32(p + 32, hp_strtab_add(t, v->owner));
	hp_put32(p + 36, hp_strtab_add(t, v->source_name));
}

static void hp_enc_header(struct hp_md_enc *e, unsigned char *p, const struct hp_md_tu_desc *tu,
			  size_t nf, size_t nv, size_t size, size_t off_refs, size_t off_str,
			  uint32_t argv0)
{
	struct hp_strtab *t = &e->strtab;

	memcpy(p, HP_MD_MAGIC, 4);
	p[4] = HP_MD_VERSION;
	p[6] = sizeof(struct hp_md_tu_disk);
	hp_put32(p + 8, (uint32_t)size);
	hp_put32(p + 12, tu->flags);
	hp_put32(p + 16, tu->compiler);
	hp_put32(p + 20, (uint32_t)nf);
	hp_put32(p + 24, (uint32_t)sizeof(struct hp_md_tu_disk));
	hp_put32(p + 28, (uint32_t)nv);
	hp_put32(p + 32,
		 (uint32_t)(sizeof(struct hp_md_tu_disk) + nf * sizeof(struct hp_md_func_disk)));
	hp_put32(p + 36, (uint32_t)e->ref_count);
	hp_put32(p + 40, (uint32_t)off_refs);
	hp_put32(p + 44, (uint32_t)off_str);
	hp_put32(p + 48, (uint32_t)t->buf.len);
	hp_put32(p + 52, hp_strtab_add(t, tu->source));
	hp_put32(p + 56, hp_strtab_add(t, tu->cwd));
	hp_put32(p + 60, (uint32_t)tu->argc);
	hp_put32(p + 64, tu->argc ? argv0 : 0);
	hp_put32(p + 68, hp_strtab_add(t, tu->output));
	hp_put32(p + 72, hp_strtab_add(t, tu->compiler_version));
	hp_put32(p + 76, hp_strtab_add(t, tu->plugin_version));
	hp_put32(p + 80, HP_MD_HASH_RULES);
}

/* The record laid out: its bytes, every address field 0, and where the
 * ".quad sym" relocations go. */
struct hp_md_layout {
	unsigned char *rec;
	size_t size;
	struct hp_reloc *relocs;
	size_t reloc_count;
};

static void hp_md_layout_release(struct hp_md_layout *l)
{
	free(l->rec);
	free(l->relocs);
	memset(l, 0, sizeof(*l));
}

static int hp_md_lay_out(const struct hp_md_tu_desc *tu, const struct hp_md_func_desc *funcs,
			 size_t nf, const struct hp_md_var_desc *vars, size_t nv,
			 struct hp_md_layout *l)
{
	struct hp_md_enc e = {0};
	uint32_t(*fr)[3] = calloc(nf ? nf : 1, sizeof(*fr));
	unsigned char *rec = NULL;
	size_t off_vars, off_refs, off_str, size, i;
	uint32_t argv0 = 0;
	int err;

	memset(l, 0, sizeof(*l));
	if (!fr)
		return -ENOMEM;
	err = hp_enc_strings(&e, tu, funcs, nf, vars, nv, fr, &argv0);
	if (err)
		goto out_free;
	/* Header strings are interned now so the size below is final. */
	hp_strtab_add(&e.strtab, tu->source);
	hp_strtab_add(&e.strtab, tu->cwd);
	hp_strtab_add(&e.strtab, tu->output);
	hp_strtab_add(&e.strtab, tu->compiler_version);
	hp_strtab_add(&e.strtab, tu->plugin_version);
	for (i = 0; i < nf; i++) {
		hp_strtab_add(&e.strtab, funcs[i].name);
		hp_strtab_add(&e.strtab, funcs[i].origin);
		hp_strtab_add(&e.strtab, funcs[i].not_patchable_reason);
	}
	for (i = 0; i < nv; i++) {
		hp_strtab_add(&e.strtab, vars[i].name);
		hp_strtab_add(&e.strtab, vars[i].owner);
		hp_strtab_add(&e.strtab, vars[i].source_name);
	}
	err = e.strtab.buf.error;
	if (err)
		goto out_free;

	off_vars = sizeof(struct hp_md_tu_disk) + nf * sizeof(struct hp_md_func_disk);
	off_refs = off_vars + nv * sizeof(struct hp_md_var_disk);
	off_str = off_refs + e.ref_count * 4;
	size = hp_align8(off_str + e.strtab.buf.len);
	err = -E2BIG;
	if (size > UINT32_MAX)
		goto out_free;
	err = -ENOMEM;
	rec = calloc(1, size);
	e.relocs = calloc(nf + nv + 1, sizeof(*e.relocs));
	if (!rec || !e.relocs)
		goto out_free;

	for (i = 0; i < nf; i++) {
		size_t off = sizeof(struct hp_md_tu_disk) + i * sizeof(struct hp_md_func_disk);

		hp_enc_func(&e, rec + off, off, &funcs[i], fr[i]);
	}
	for (i = 0; i < nv; i++) {
		size_t off = off_vars + i * sizeof(struct hp_md_var_disk);

		hp_enc_var(&e, rec + off, off, &vars[i]);
	}
	hp_enc_header(&e, rec, tu, nf, nv, size, off_refs, off_str, argv0);
	for (i = 0; i < e.ref_count; i++)
		hp_put32(rec + off_refs + 4 * i, e.refs[i]);
	memcpy(rec + off_str, e.strtab.buf.data, e.strtab.buf.len);

	l->rec = rec;
	l->size = size;
	l->relocs = e.relocs;
	l->reloc_count = e.reloc_count;
	rec = NULL;
	e.relocs = NULL;
	err = 0;
out_free:
	free(rec);
	free(e.relocs);
	free(e.refs);
	free(e.strtab.buf.data);
	free(e.strtab.slots);
	free(fr);
	return err;
}

int hp_md_encode(const struct hp_md_tu_desc *tu, const struct hp_md_func_desc *funcs, size_t nf,
		 const struct hp_md_var_desc *vars, size_t nv, unsigned char **rec, size_t *size)
{
	struct hp_md_layout l;
	int err = hp_md_lay_out(tu, funcs, nf, vars, nv, &l);

	*rec = NULL;
	*size = 0;
	if (err)
		return err;
	*rec = l.rec;
	*size = l.size;
	l.rec = NULL;
	hp_md_layout_release(&l);
	return 0;
}

int hp_md_asm_encode(const struct hp_md_tu_desc *tu, const struct hp_md_func_desc *funcs, size_t nf,
		     const struct hp_md_var_desc *vars, size_t nv, char **text)
{
	struct hp_buf out = {0};
	struct hp_md_layout l;
	int err;

	*text = NULL;
	err = hp_md_lay_out(tu, funcs, nf, vars, nv, &l);
	if (err)
		return err;
	hp_emit_text(&out, l.rec, l.size, l.relocs, l.reloc_count);
	hp_buf_add(&out, "", 1);
	err = out.error;
	if (err)
		free(out.data);
	else
		*text = out.data;
	hp_md_layout_release(&l);
	return err;
}
