/* The machine-code comparison: two builds of one function compared with
 * differences that are only moved addresses explained away.
 *
 * Exact, when both builds were linked with -Wl,--emit-relocs: every
 * relocated field is compared by what its relocation refers to (symbol +
 * addend, or for a section-relative one the symbol or unnamed datum at the
 * address), every other byte must be equal (machcode_relocs.c).
 *
 * Otherwise a heuristic (machcode.c): a differing byte is explained when it
 * lies in a 32-bit PC-relative field (call/jmp/jcc rel32, RIP-relative
 * displacement) or an absolute 32/64-bit address whose target, in each
 * build, is the same symbol at the same offset (for unnamed read-only data:
 * the same bytes in a section of the same name; otherwise the same offset
 * in a section of the same name). It can take moved neighbours of an
 * unnamed literal for a change, and cannot see past the bytes it compares. */
#ifndef MP_MACHCODE_H
#define MP_MACHCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

/* One build's copy of a function: its link-time address and bytes, and the
 * image whose symbols and sections explain its addresses. */
struct mp_mc_func {
	const struct mp_elf *elf;
	uint64_t addr, size;
	const uint8_t *bytes;
};

/* True when o and n are the same machine code up to moved addresses:
 * exactly when both images have their relocations (mp_mc_exact), else by
 * the heuristic. Sets *ok to false (and returns false) on out of memory. */
bool mp_mc_same(const struct mp_mc_func *o, const struct mp_mc_func *n, bool *ok);

/* True when the comparison of e against another build with relocations is
 * exact: e was linked with -Wl,--emit-relocs. */
static inline bool mp_mc_exact(const struct mp_elf *e)
{
	return e->has_relocs;
}

/* Prepares e for exact comparisons: the sorted addresses at which an
 * unnamed datum may start (every symbol, every address a relocation
 * refers to), which bound the bytes compared for a literal. 0 or -ENOMEM. */
int mp_mc_index(struct mp_elf *e);

/* Shared by the two comparisons. */
bool mp_mc_same_relocs(const struct mp_mc_func *o, const struct mp_mc_func *n, bool *ok);
/* Names equal, or the same clone of the same origin (numbers differ). */
bool mp_mc_same_name(const char *a, const char *b, bool *ok);
uint64_t mp_mc_load_le(const uint8_t *b, unsigned width);
/* The size of the immediate after a RIP-relative displacement at b + s
 * (the CPU adds the displacement to the instruction's end), or 0. */
unsigned mp_mc_rip_imm_size(const uint8_t *b, size_t s);

#endif
