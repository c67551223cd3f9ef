/* The machine-code second opinion: two builds of one function compared
 * byte for byte, with differences that are only moved addresses explained
 * away. A differing byte is explained when it lies in a 32-bit PC-relative
 * field (call/jmp/jcc rel32, RIP-relative displacement) or an absolute
 * 32/64-bit address whose target, in each build, is the same symbol at the
 * same offset (for unnamed read-only data: the same bytes in a section of
 * the same name; otherwise the same offset in a section of the same name). */
#ifndef MP_MACHCODE_H
#define MP_MACHCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"

/* One build's copy of a function: its link-time address and bytes, and the
 * image whose symbols and sections explain its addresses. */
struct mp_mc_func {
	const struct mp_elf *elf;
	uint64_t addr, size;
	const uint8_t *bytes;
};

/* True when o and n are the same machine code up to moved addresses.
 * Sets *ok to false (and returns false) on out of memory. */
bool mp_mc_same(const struct mp_mc_func *o, const struct mp_mc_func *n, bool *ok);

#endif
