/* The heuristic machine-code comparison, for builds linked without
 * relocations (see machcode.h; machcode_relocs.c is the exact one).
 *
 * Two builds of an unchanged function differ only where they name another
 * place: a call's rel32, a RIP-relative displacement, an absolute address
 * in a non-PIE. Each differing byte must lie in such a field whose target
 * is "the same place" in both builds; anything else is a change. An operand
 * followed by an immediate (movl $-1, x(%rip)) is relative to the end of
 * the immediate: its size is read from the opcode (mp_mc_rip_imm_size).
 *
 * A GOT slot or a PLT entry is the same place when it stands for the same
 * thing (the symbol of its dynamic relocation, or the symbol at the address
 * it holds), whatever its position: the order of slots follows the set of
 * imported symbols and GOT-referenced globals, which other changes move. */
#include "machcode.h"

#include <stdlib.h>
#include <string.h>

#include <elf.h>

#include "model.h"

/* Unnamed read-only data is compared by content: the string at the target
 * (up to its NUL) and at least this many bytes (scalar and SSE literals). */
#define MC_MIN_CONTENT 16
#define MC_MAX_CONTENT 4096

struct place {
	const struct mp_sym *sym;	  /* named: symbol + off */
	const struct mp_elf_section *sec; /* else: section (+ off or content) */
	uint64_t off;
	const struct mp_elf *elf_;
	uint64_t addr;
	const uint8_t *data; /* unnamed read-only data: its bytes */
	size_t len, avail;
	/* A GOT slot ('G') or a PLT entry ('P'): what it stands for, an
	 * import ('i': name + addend) or an address in the image ('l':
	 * symbol + offset, 'r': the IRELATIVE resolver) */
	char ind, tag;
	const char *iname, *ifile;
	uint64_t ioff;
};

static const struct mp_elf_section *section_of(const struct mp_elf *e, uint64_t a)
{
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct mp_elf_section *s = &e->secs[i];
		if (a >= s->addr && a - s->addr <= s->size && s->size)
			return s;
	}
	return NULL;
}

static const struct mp_sym *sym_exactly_at(const struct mp_elf *e, uint64_t a)
{
	static const int types[] = {STT_FUNC, STT_OBJECT};
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
		const struct mp_sym *s = mp_elf_sym_at(e, a, types[i], NULL);
		if (s)
			return s;
	}
	return NULL;
}

/* A NUL-terminated string of printable characters: compared up to its NUL
 * (the bytes after it are the next literal's). */
static bool is_text(const uint8_t *d, size_t len)
{
	if (len < 2 || d[len - 1])
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if ((d[i] < 0x20 || d[i] > 0x7e) && d[i] != '\n' && d[i] != '\t' && d[i] != '\r')
			return false;
	return true;
}

static bool is_got(const struct mp_elf *e, uint64_t a)
{
	return mp_elf_in_section(e, a, ".got") || mp_elf_in_section(e, a, ".got.plt");
}

static bool is_plt(const struct mp_elf *e, uint64_t a)
{
	return mp_elf_in_section(e, a, ".plt") || mp_elf_in_section(e, a, ".plt.sec") ||
	       mp_elf_in_section(e, a, ".plt.got");
}

/* What the GOT slot at slot stands for (p->tag, iname, ifile, ioff); false
 * when unknown (no usable relocation): then it is compared by position. */
static bool slot_meaning(const struct mp_elf *e, uint64_t slot, struct place *p)
{
	const struct mp_got_reloc *r = mp_elf_got_reloc(e, slot);
	uint64_t to;
	if (r) {
		switch (r->type) {
		case R_X86_64_GLOB_DAT:
		case R_X86_64_JUMP_SLOT:
		case R_X86_64_64:
			if (!r->name || !*r->name)
				return false;
			p->tag = 'i';
			p->iname = r->name;
			p->ifile = "";
			p->ioff = (uint64_t)r->addend;
			return true;
		case R_X86_64_RELATIVE:
			p->tag = 'l';
			break;
		case R_X86_64_IRELATIVE:
			p->tag = 'r';
			break;
		default:
			return false;
		}
		to = (uint64_t)r->addend;
	} else {
		/* no dynamic relocation: a non-PIE's link-time address */
		const uint8_t *b = mp_elf_bytes_at(e, slot, 8);
		if (e->type != ET_EXEC || !b)
			return false;
		p->tag = 'l';
		to = mp_mc_load_le(b, 8);
	}
	const struct mp_sym *s = mp_elf_sym_containing(e, to);
	if (!s || s->type == STT_TLS)
		s = sym_exactly_at(e, to);
	if (!s)
		return false;
	p->iname = s->name;
	p->ifile = s->file;
	p->ioff = to - s->value;
	return true;
}

/* A PLT entry at a: the GOT slot its jmp *slot(%rip) (ff 25 rel32) reads,
 * at the entry's start, after a bnd prefix (f2) or an endbr64. */
static bool plt_meaning(const struct mp_elf *e, const struct mp_elf_section *sec, uint64_t a,
			struct place *p)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
	if (!sec->data || a - sec->addr >= sec->size)
		return false;
	uint64_t avail = sec->size - (a - sec->addr);
	const uint8_t *b = sec->data + (a - sec->addr);
	size_t at = 0;
	if (avail >= 4 && !memcmp(b, endbr64, 4))
		at = 4;
	if (avail > at && b[at] == 0xf2)
		at++;
	if (avail < at + 6 || b[at] != 0xff || b[at + 1] != 0x25)
		return false;
	uint64_t slot = a + at + 6 + (uint64_t)(int64_t)(int32_t)mp_mc_load_le(b + at + 2, 4);
	return is_got(e, slot) && slot_meaning(e, slot, p);
}

static bool locate(const struct mp_elf *e, uint64_t a, struct place *p)
{
	memset(p, 0, sizeof(*p));
	p->addr = a;
	p->elf_ = e;
	const struct mp_elf_section *sec = section_of(e, a);
	if (!sec)
		return false; /* not an address of this image */
	if (is_got(e, a) && slot_meaning(e, a, p)) {
		p->ind = 'G';
		return true;
	}
	if (sec->exec && is_plt(e, a) && plt_meaning(e, sec, a, p)) {
		p->ind = 'P';
		return true;
	}
	const struct mp_sym *s = mp_elf_sym_containing(e, a);
	if (!s || s->type == STT_TLS)
		s = sym_exactly_at(e, a);
	if (s) {
		p->sym = s;
		p->off = a - s->value;
		return true;
	}
	p->sec = sec;
	p->off = a - sec->addr;
	if (sec->data && !sec->exec && !sec->write && p->off < sec->size) {
		size_t avail = (size_t)(sec->size - p->off);
		if (avail > MC_MAX_CONTENT)
			avail = MC_MAX_CONTENT;
		const uint8_t *d = sec->data + p->off;
		const uint8_t *nul = memchr(d, 0, avail);
		size_t len = nul ? (size_t)(nul - d) + 1 : avail;
		p->len = len < MC_MIN_CONTENT && !is_text(d, len)
				 ? (avail < MC_MIN_CONTENT ? avail : MC_MIN_CONTENT)
				 : len;
		p->avail = avail;
		p->data = d;
	}
	return true;
}

bool mp_mc_same_name(const char *a, const char *b, bool *ok)
{
	if (!strcmp(a, b))
		return true;
	if (!mp_is_clone_name(a) || !mp_is_clone_name(b))
		return false;
	/* parse.llvm.123 / parse.constprop.0: numbers differ between builds */
	char *ka = mp_clone_key(a), *kb = mp_clone_key(b);
	bool same = ka && kb && !strcmp(ka, kb);
	if (!ka || !kb)
		*ok = false;
	free(ka);
	free(kb);
	return same;
}

static bool same_place(const struct place *o, const struct place *n, bool *ok);

/* The words at offset k of o and n are entries of a jump table (target -
 * table base) starting at or before k (the compared bytes may run into a
 * following table) that land on the same named place in both builds. */
static bool table_entry(const struct place *o, const struct place *n, size_t k, bool *ok)
{
	int64_t eo = (int32_t)mp_mc_load_le(o->data + k, 4),
		en = (int32_t)mp_mc_load_le(n->data + k, 4);
	for (size_t base = k + 4; base >= 4; base -= 4) {
		struct place to, tn;
		if (locate(o->elf_, o->addr + base - 4 + (uint64_t)eo, &to) && to.sym &&
		    locate(n->elf_, n->addr + base - 4 + (uint64_t)en, &tn) && tn.sym &&
		    same_place(&to, &tn, ok))
			return true;
		if (!*ok)
			return false;
	}
	return false;
}

/* Unnamed read-only data with the same contents; a 32-bit word may differ
 * when it is a jump-table entry (target - table) that lands on the same
 * named place in both builds (the code moved relative to the table). */
static bool same_content(const struct place *o, const struct place *n, bool *ok)
{
	size_t len = o->len > n->len ? o->len : n->len;
	if (len > o->avail || len > n->avail)
		return false;
	for (size_t k = 0; k < len; k += 4) {
		size_t w = len - k < 4 ? len - k : 4;
		if (!memcmp(o->data + k, n->data + k, w))
			continue;
		if (w < 4 || !table_entry(o, n, k, ok))
			return false;
	}
	return true;
}

static bool same_place(const struct place *o, const struct place *n, bool *ok)
{
	if (o->ind || n->ind)
		return o->ind == n->ind && o->tag == n->tag && o->ioff == n->ioff &&
		       !strcmp(o->ifile, n->ifile) && mp_mc_same_name(o->iname, n->iname, ok);
	if (o->sym || n->sym)
		return o->sym && n->sym && o->off == n->off &&
		       !strcmp(o->sym->file, n->sym->file) &&
		       mp_mc_same_name(o->sym->name, n->sym->name, ok);
	if (!o->sec->name || !n->sec->name || strcmp(o->sec->name, n->sec->name))
		return false;
	if (o->data && n->data)
		return same_content(o, n, ok);
	return o->off == n->off;
}

uint64_t mp_mc_load_le(const uint8_t *b, unsigned width)
{
	uint64_t v = 0;
	for (unsigned k = width; k-- > 0;)
		v = v << 8 | b[k];
	return v;
}

/* Operand-size prefix (66) before the opcode at op, past a REX without W. */
static bool opsize16(const uint8_t *b, size_t op)
{
	if (op >= 1 && b[op - 1] >= 0x40 && b[op - 1] <= 0x4f) {
		if (b[op - 1] & 8)
			return false; /* REX.W: 32-bit immediate */
		op--;
	}
	return op >= 1 && b[op - 1] == 0x66;
}

/* When the 4 bytes at s are the displacement of a RIP-relative operand
 * (ModRM mod 00, r/m 101 at s-1) of an instruction that ends with an
 * immediate, the immediate's size (the CPU adds the displacement to the
 * instruction's end), read from the opcode before the ModRM; else 0. Not a
 * decoder: bytes that only look like this give a wrong target, which can
 * only make the comparison see a change. */
unsigned mp_mc_rip_imm_size(const uint8_t *b, size_t s)
{
	if (s < 2 || (b[s - 1] & 0xc7) != 0x05)
		return 0;
	unsigned reg = b[s - 1] >> 3 & 7;
	size_t op = s - 2;
	if (s >= 5 && b[s - 5] == 0xc4)
		return (b[s - 4] & 0x1f) == 3; /* VEX, map 0f3a: imm8 */
	if (s >= 6 && b[s - 6] == 0x62)
		return (b[s - 5] & 7) == 3; /* EVEX, map 0f3a: imm8 */
	if (s >= 4 && b[s - 4] == 0x0f && b[s - 3] == 0x3a)
		return 1;
	if (s >= 3 && b[s - 3] == 0x0f) {
		switch (b[op]) {
		case 0x70: /* pshufd */
		case 0xa4: /* shld */
		case 0xac: /* shrd */
		case 0xba: /* bt group */
		case 0xc2: /* cmpps */
		case 0xc4: /* pinsrw */
		case 0xc6: /* shufps */
			return 1;
		default:
			return 0;
		}
	}
	switch (b[op]) {
	case 0x6b: /* imul r, m, imm8 */
	case 0x80:
	case 0x82:
	case 0x83: /* ALU m, imm8 */
	case 0xc0:
	case 0xc1: /* shifts m, imm8 */
	case 0xc6: /* movb m, imm8 */
		return 1;
	case 0x69:
	case 0x81:
	case 0xc7:
		return opsize16(b, op) ? 2 : 4;
	case 0xf6: /* test m8, imm8 */
		return reg < 2;
	case 0xf7: /* test m, imm */
		return reg >= 2 ? 0 : opsize16(b, op) ? 2 : 4;
	default:
		return 0;
	}
}

enum field { REL32, ABS32, ABS64 };

static uint64_t target(const struct mp_mc_func *f, enum field kind, size_t s)
{
	switch (kind) {
	case REL32:
		return f->addr + s + 4 + mp_mc_rip_imm_size(f->bytes, s) +
		       (uint64_t)(int64_t)(int32_t)mp_mc_load_le(f->bytes + s, 4);
	case ABS32:
		return mp_mc_load_le(f->bytes + s, 4);
	default:
		return mp_mc_load_le(f->bytes + s, 8);
	}
}

/* A field covering byte i, starting at or after floor, whose targets are the
 * same place in both builds: returns its end, or 0. */
static size_t explain(const struct mp_mc_func *o, const struct mp_mc_func *n, size_t i,
		      size_t floor, bool *ok)
{
	static const enum field kinds[] = {REL32, ABS32, ABS64};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		size_t width = kinds[k] == ABS64 ? 8 : 4;
		for (size_t back = 0; back < width && back <= i; back++) {
			size_t s = i - back;
			if (s < floor || s + width > n->size)
				continue;
			struct place po, pn;
			if (locate(o->elf, target(o, kinds[k], s), &po) &&
			    locate(n->elf, target(n, kinds[k], s), &pn) && same_place(&po, &pn, ok))
				return s + width;
			if (!*ok)
				return 0;
		}
	}
	return 0;
}

bool mp_mc_same(const struct mp_mc_func *o, const struct mp_mc_func *n, bool *ok)
{
	*ok = true;
	if (o->size != n->size)
		return false;
	if (mp_mc_exact(o->elf) && mp_mc_exact(n->elf))
		return mp_mc_same_relocs(o, n, ok);
	if (!memcmp(o->bytes, n->bytes, n->size))
		return true;
	size_t floor = 0;
	for (size_t i = 0; i < n->size;) {
		if (o->bytes[i] == n->bytes[i]) {
			i++;
			continue;
		}
		size_t end = explain(o, n, i, floor, ok);
		if (!end)
			return false;
		i = floor = end;
	}
	return true;
}
