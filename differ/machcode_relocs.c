/* The exact machine-code comparison, from the relocations ld keeps with
 * -Wl,--emit-relocs (see machcode.h).
 *
 * Every field the linker filled in has a relocation naming what it means:
 * "call strlen@GLIBC_2.2.5 - 4", "lea .rodata + 0x2d" (a string literal ld
 * merged into .rodata), a jump-table entry ".text + 0x1234" in .rela.rodata.
 * Two builds of a function are the same when they have the same bytes
 * outside relocated fields, relocations of the same type at the same
 * offsets, and every pair refers to the same thing:
 *
 * - a named symbol (function, object, import): the same name (clone
 *   numbers aside), the same FILE for a local, the same addend; a named
 *   object's contents are compared too (a vendored table whose values
 *   changed changes what unchanged code computes);
 * - a section or a local label (.L.str.3: numbered in file order): the
 *   address it stands for, resolved to the function or object holding it,
 *   else, in read-only data, the unnamed datum there, compared by contents
 *   in the same way (its own relocated fields by what they refer to).
 *
 * An unnamed datum's extent is not recorded anywhere, so it is bounded by
 * the next address anything in the binary refers to or any symbol starts
 * at (mp_mc_index): compilers emit each literal, jump table or pool
 * constant at an address its users refer to, so the next such address is
 * where the next datum starts. Of the two builds' extents the shorter is
 * compared: the longer one only ran on because a neighbour nobody refers
 * to any more was dropped. A string tail-merged into a longer one ("bc" at
 * the end of "abc") cuts the longer one short: so a datum without a NUL or
 * a relocation before its bound is compared up to its NUL.
 *
 * Cycles (objects that point at each other) are compared once: a pair of
 * places under comparison counts as the same while the rest is compared,
 * which is how equality of two graphs is decided. */
#include "machcode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>

#define MCR_MAX_DEPTH 64
#define MCR_MAX_STRING 4096

struct pair_set {
	uint64_t *o, *n; /* open addressing; o == 0 marks a free slot */
	size_t cap, count;
};

struct ctx {
	const struct mp_elf *o, *n;
	struct pair_set seen;
	bool *ok;
};

static size_t pair_hash(uint64_t o, uint64_t n, size_t cap)
{
	uint64_t h = (o * 0x9e3779b97f4a7c15ull) ^ (n + 0x632be59bd9b4e019ull + (o << 6));
	return (size_t)(h ^ h >> 29) & (cap - 1);
}

/* Adds (o, n); false when it was there already. Out of memory clears *ok. */
static bool pair_add(struct ctx *c, uint64_t o, uint64_t n)
{
	struct pair_set *s = &c->seen;
	if (!o)
		o = 1; /* 0 marks free slots; address 0 holds nothing we compare */
	if ((s->count + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *no = calloc(cap, sizeof(*no)), *nn = calloc(cap, sizeof(*nn));
		if (!no || !nn) {
			free(no);
			free(nn);
			*c->ok = false;
			return false;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->o[i])
				continue;
			size_t h = pair_hash(s->o[i], s->n[i], cap);
			while (no[h])
				h = (h + 1) & (cap - 1);
			no[h] = s->o[i];
			nn[h] = s->n[i];
		}
		free(s->o);
		free(s->n);
		s->o = no;
		s->n = nn;
		s->cap = cap;
	}
	size_t h = pair_hash(o, n, s->cap);
	for (; s->o[h]; h = (h + 1) & (s->cap - 1))
		if (s->o[h] == o && s->n[h] == n)
			return false;
	s->o[h] = o;
	s->n[h] = n;
	s->count++;
	return true;
}

/* Bytes a relocation of this type fills in; 0 for a marker or a type this
 * comparison does not know (then its fields must be equal bytes, with the
 * same symbol and addend). */
static unsigned field_width(uint32_t type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
	case R_X86_64_DTPOFF64:
	case R_X86_64_TPOFF64:
	case R_X86_64_GOTOFF64:
	case R_X86_64_GOTPC64:
	case R_X86_64_GOTPCREL64:
	case R_X86_64_SIZE64:
		return 8;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_GOT32:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
	case R_X86_64_GOTPC32:
	case R_X86_64_TLSGD:
	case R_X86_64_TLSLD:
	case R_X86_64_DTPOFF32:
	case R_X86_64_GOTTPOFF:
	case R_X86_64_TPOFF32:
	case R_X86_64_GOTPC32_TLSDESC:
	case R_X86_64_SIZE32:
		return 4;
	default:
		return 0;
	}
}

static bool is_pc_relative(uint32_t type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32 || type == R_X86_64_PC64;
}

static bool is_got_relative(uint32_t type)
{
	return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX || type == R_X86_64_GOT32 ||
	       type == R_X86_64_GOTPCREL64;
}

/* A compiler's private label: clang keeps .L.str.N (as a sized local
 * object) for a literal in a mergeable section, numbered in file order, and
 * ld merges equal literals of several files under all their labels: one ""
 * can be .L.str of a.c in OLD and .L.str.2 of a.c in NEW. */
static bool is_private_label(const struct mp_sym *s)
{
	return s->bind == STB_LOCAL && s->name && !strncmp(s->name, ".L", 2);
}

/* A section symbol, a private label, or a local label without a type
 * (hand-written assembly keeps its labels): what it means is the address,
 * not the name. */
static bool is_anonymous(const struct mp_sym *s)
{
	return s->type == STT_SECTION || (s->type == STT_NOTYPE && s->bind == STB_LOCAL) ||
	       !s->name || !*s->name || is_private_label(s);
}

static bool defined(const struct mp_sym *s)
{
	return s->shndx != SHN_UNDEF && s->shndx < SHN_LORESERVE;
}

/* The address a relocated field at `at` (offset off in bytes b) refers to,
 * for an anonymous symbol. In code a PC-relative operand counts from the
 * instruction's end (S + A is 4, or 4 + immediate, before the target); in
 * data a PC-relative entry (a jump table, a relative lookup table) counts
 * from the datum's start, at off bytes before the field. A GOT-relative
 * field reaches the GOT slot holding S. */
static uint64_t anon_target(const struct mp_sym *s, const struct mp_reloc *r, const uint8_t *b,
			    uint64_t off, bool code)
{
	uint64_t sa = s->value + (uint64_t)r->addend;
	if (is_got_relative(r->type))
		return s->value;
	if (!is_pc_relative(r->type))
		return sa;
	if (code)
		return sa + (r->type == R_X86_64_PC64 ? 8 : 4 + mp_mc_rip_imm_size(b, off));
	return sa - off;
}

static bool same_range(struct ctx *c, uint64_t oa, uint64_t na, uint64_t len, bool code, int depth);

/* Contents of two named objects (their sizes from the symbol table). */
static bool same_object(struct ctx *c, const struct mp_sym *so, const struct mp_sym *sn, int depth)
{
	if (so->type != STT_OBJECT || !defined(so) || !defined(sn))
		return true; /* a function is compared on its own; an import by name */
	if (so->size != sn->size)
		return false;
	const struct mp_elf_section *xo = mp_elf_section_of(c->o, so->value),
				    *xn = mp_elf_section_of(c->n, sn->value);
	if (!xo || !xn || !xo->data || !xn->data)
		return (!xo || !xo->data) && (!xn || !xn->data); /* .bss: zero in both */
	if (!pair_add(c, so->value, sn->value))
		return *c->ok;
	return same_range(c, so->value, sn->value, so->size, false, depth + 1);
}

/* The function or object holding a; NULL for unnamed data (a private
 * label's datum is unnamed: its label is no name to compare). */
static const struct mp_sym *holder(const struct mp_elf *e, uint64_t a)
{
	const struct mp_sym *s = mp_elf_sym_containing(e, a);
	if (!s || s->type == STT_TLS) {
		s = mp_elf_sym_at(e, a, STT_FUNC, NULL);
		if (!s)
			s = mp_elf_sym_at(e, a, STT_OBJECT, NULL);
	}
	return s && !is_private_label(s) ? s : NULL;
}

/* The first index of e->bounds above a. */
static size_t bound_above(const struct mp_elf *e, uint64_t a)
{
	size_t lo = 0, hi = e->nbounds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->bounds[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The extent of the unnamed datum at a in section s (see the top). */
static uint64_t datum_extent(const struct mp_elf *e, const struct mp_elf_section *s, uint64_t a)
{
	uint64_t end = s->addr + s->size;
	size_t i = bound_above(e, a);
	uint64_t len = (i < e->nbounds && e->bounds[i] < end ? e->bounds[i] : end) - a;
	const uint8_t *d = s->data + (a - s->addr);
	size_t nrel;
	if (memchr(d, 0, len) || mp_elf_relocs_in(e, a, len, &nrel))
		return len;
	uint64_t avail = end - a < MCR_MAX_STRING ? end - a : MCR_MAX_STRING;
	const uint8_t *nul = memchr(d, 0, avail);
	return nul ? (uint64_t)(nul - d) + 1 : len;
}

/* Two addresses an anonymous relocation stands for: the same function or
 * object at the same offset, or unnamed read-only data with the same
 * contents. Other unnamed places (writable, or code outside any function)
 * must be at the same offset of a section of the same name. */
static bool same_address(struct ctx *c, uint64_t to, uint64_t tn, int depth)
{
	const struct mp_elf_section *xo = mp_elf_section_of(c->o, to),
				    *xn = mp_elf_section_of(c->n, tn);
	if (!xo || !xn)
		return !xo && !xn && to == tn;
	if (!xo->name || !xn->name || strcmp(xo->name, xn->name))
		return false;
	const struct mp_sym *ho = holder(c->o, to), *hn = holder(c->n, tn);
	if (ho || hn)
		return ho && hn && ho->type == hn->type && to - ho->value == tn - hn->value &&
		       !strcmp(ho->file, hn->file) && mp_mc_same_name(ho->name, hn->name, c->ok) &&
		       (to != ho->value || same_object(c, ho, hn, depth));
	if (xo->exec || xo->write || !xo->data || !xn->data)
		return to - xo->addr == tn - xn->addr;
	if (!pair_add(c, to, tn))
		return *c->ok;
	uint64_t lo = datum_extent(c->o, xo, to), ln = datum_extent(c->n, xn, tn);
	return same_range(c, to, tn, lo < ln ? lo : ln, false, depth + 1);
}

/* Two relocations at the same offset of the compared ranges (b: the bytes
 * of each range, off: the field's offset) refer to the same thing. */
static bool same_target(struct ctx *c, const struct mp_reloc *ro, const struct mp_reloc *rn,
			const uint8_t *bo, const uint8_t *bn, uint64_t off, bool code, int depth)
{
	const struct mp_sym *so = &c->o->rsyms[ro->sym], *sn = &c->n->rsyms[rn->sym];
	bool ao = is_anonymous(so), an = is_anonymous(sn);
	if (!ao || !an) {
		if (ao || an || so->type != sn->type || ro->addend != rn->addend ||
		    strcmp(so->file, sn->file) || !mp_mc_same_name(so->name, sn->name, c->ok))
			return false;
		if (is_got_relative(ro->type) || ro->type == R_X86_64_PLT32)
			return true; /* the slot or the entry, not the contents */
		return same_object(c, so, sn, depth);
	}
	if (!field_width(ro->type) || ro->type == R_X86_64_TPOFF32 ||
	    ro->type == R_X86_64_GOTTPOFF || ro->type == R_X86_64_TLSGD ||
	    ro->type == R_X86_64_TLSLD || ro->type == R_X86_64_DTPOFF32 ||
	    ro->type == R_X86_64_TPOFF64 || ro->type == R_X86_64_DTPOFF64)
		return false; /* assemblers keep symbols for these; a section is unusual */
	return same_address(c, anon_target(so, ro, bo, off, code),
			    anon_target(sn, rn, bn, off, code), depth);
}

/* [oa, oa + len) of OLD and [na, na + len) of NEW: equal bytes outside the
 * relocated fields, and fields that refer to the same things. */
static bool same_range(struct ctx *c, uint64_t oa, uint64_t na, uint64_t len, bool code, int depth)
{
	if (depth > MCR_MAX_DEPTH)
		return false;
	const uint8_t *bo = mp_elf_bytes_at(c->o, oa, len), *bn = mp_elf_bytes_at(c->n, na, len);
	if (!bo || !bn)
		return false;
	size_t no, nn;
	const struct mp_reloc *ro = mp_elf_relocs_in(c->o, oa, len, &no);
	const struct mp_reloc *rn = mp_elf_relocs_in(c->n, na, len, &nn);
	if (no != nn)
		return false;
	uint64_t pos = 0;
	for (size_t i = 0; i < no; i++) {
		uint64_t off = ro[i].at - oa;
		unsigned w = field_width(ro[i].type);
		if (rn[i].at - na != off || ro[i].type != rn[i].type || off < pos || off + w > len)
			return false;
		if (memcmp(bo + pos, bn + pos, off - pos))
			return false;
		if (!same_target(c, &ro[i], &rn[i], bo, bn, off, code, depth))
			return false;
		pos = off + w;
	}
	return !memcmp(bo + pos, bn + pos, len - pos);
}

bool mp_mc_same_relocs(const struct mp_mc_func *o, const struct mp_mc_func *n, bool *ok)
{
	struct ctx c = {o->elf, n->elf, {0}, ok};
	*ok = true;
	bool same = o->size == n->size && same_range(&c, o->addr, n->addr, n->size, true, 0);
	free(c.seen.o);
	free(c.seen.n);
	return same && *ok;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The address an anonymous relocation refers to, for the index; data
 * PC-relative entries (relative to a table whose start only its users
 * know) add nothing: their targets are code or a literal that code or a
 * pointer also refers to. */
static bool index_target(const struct mp_elf *e, const struct mp_reloc *r, uint64_t *to)
{
	const struct mp_sym *s = &e->rsyms[r->sym];
	if (!is_anonymous(s) || !field_width(r->type))
		return false;
	const struct mp_elf_section *x = mp_elf_section_of(e, r->at);
	if (!x || !x->data)
		return false;
	if (!x->exec && is_pc_relative(r->type))
		return false;
	uint64_t off = r->at - x->addr, back = off < 8 ? off : 8;
	*to = anon_target(s, r, x->data + off - back, back, x->exec);
	return true;
}

int mp_mc_index(struct mp_elf *e)
{
	free(e->bounds);
	e->nbounds = 0;
	e->bounds = malloc(sizeof(*e->bounds) * (2 * e->nrsyms + e->nrelocs + 1));
	if (!e->bounds)
		return -ENOMEM;
	for (size_t i = 0; i < e->nrsyms; i++) {
		const struct mp_sym *s = &e->rsyms[i];
		if (!s->name || s->type == STT_SECTION || s->type == STT_TLS || !defined(s))
			continue;
		e->bounds[e->nbounds++] = s->value;
		if (s->size)
			e->bounds[e->nbounds++] = s->value + s->size;
	}
	for (size_t i = 0; i < e->nrelocs; i++)
		if (index_target(e, &e->relocs[i], &e->bounds[e->nbounds]))
			e->nbounds++;
	qsort(e->bounds, e->nbounds, sizeof(*e->bounds), cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < e->nbounds; i++)
		if (!k || e->bounds[i] != e->bounds[k - 1])
			e->bounds[k++] = e->bounds[i];
	e->nbounds = k;
	return 0;
}
