/* Trampolines: `jmp *slot(%rip)` stubs mapped within rel32 reach of a
 * target image, for replacements that the padding's 5-byte jump cannot
 * reach directly (a dlopened package usually lands far from a PIE
 * executable).
 *
 * An area is two pages: a code page of 512 eight-byte stubs, written once
 * when the area is created and then never again, and right after it a
 * read-write page of 512 slots. Stub i jumps through slot i, so every stub
 * has the same displacement (4096 - 6), and re-targeting a stub is a plain
 * aligned 8-byte store to a data page: no mprotect, no cross-modifying code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hp_internal.h"

#define AREA_STUBS 512
#define PAGE 4096ul
/* Keep well inside ±2 GiB so any byte of either end stays in reach. */
#define REACH ((1ul << 31) - (64ul << 20))

struct area {
	uintptr_t code;
	unsigned used;
	uint8_t busy[AREA_STUBS];
	struct area *next;
};

static struct area *areas;

static int in_reach(uintptr_t a, uintptr_t lo, uintptr_t hi)
{
	uintptr_t far_lo = a > lo ? a - lo : lo - a, far_hi = a > hi ? a - hi : hi - a;

	return far_lo < REACH && far_hi < REACH;
}

static int fill_area(uintptr_t code)
{
	uint8_t stub[8] = {0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc};
	int32_t disp = PAGE - 6;

	memcpy(stub + 2, &disp, 4);
	for (unsigned i = 0; i < AREA_STUBS; i++)
		memcpy((void *)(code + i * 8), stub, sizeof(stub));
	return mprotect((void *)code, PAGE, PROT_READ | PROT_EXEC);
}

uintptr_t hp_map_near(uintptr_t lo, uintptr_t hi, size_t len, size_t align, int prot)
{
	uintptr_t step = 16ul << 20;

	if (align < PAGE)
		align = PAGE;
	for (unsigned k = 1; k < 96; k++) {
		uintptr_t up = ((hi + align - 1) & ~(align - 1)) + k * step;
		uintptr_t down = ((lo & ~(align - 1)) - k * step) & ~(align - 1);

		/* Below first: above an executable lies its brk heap, which a
		 * mapping there would stop from growing. */
		for (int side = 0; side < 2; side++) {
			uintptr_t hint = side ? up : down;
			void *p;

			if ((!side && down > lo) || !in_reach(hint, lo, hi) ||
			    !in_reach(hint + len, lo, hi))
				continue;
			p = mmap((void *)hint, len, prot,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == MAP_FAILED)
				continue;
			if ((uintptr_t)p == hint)
				return hint;
			munmap(p, len); /* kernel without NOREPLACE */
		}
	}
	return 0;
}

/* A new area near [lo, hi]. */
static struct area *map_area(uintptr_t lo, uintptr_t hi, int *ret, char *err, size_t errlen)
{
	struct area *a = calloc(1, sizeof(*a));
	uintptr_t code;

	*ret = -ENOMEM;
	if (!a) {
		hp_seterr(err, errlen, "out of memory");
		return NULL;
	}
	code = hp_map_near(lo, hi, 2 * PAGE, PAGE, PROT_READ | PROT_WRITE);
	if (!code) {
		free(a);
		hp_seterr(err, errlen,
			  "no free address within 2 GiB of the target image for trampolines");
		return NULL;
	}
	if (fill_area(code) < 0) {
		int e = errno;

		munmap((void *)code, 2 * PAGE);
		free(a);
		*ret = -HP_EWX;
		hp_seterr(err, errlen,
			  "kernel refused an executable trampoline page (W^X policy?): %s",
			  strerror(e));
		return NULL;
	}
	a->code = code;
	return a;
}

int hp_tramp_alloc(uintptr_t lo, uintptr_t hi, uintptr_t *jmp, uintptr_t *slot, char *err,
		   size_t errlen)
{
	struct area *a;
	int ret;

	for (a = areas; a; a = a->next)
		if (a->used < AREA_STUBS && in_reach(a->code, lo, hi) &&
		    in_reach(a->code + PAGE, lo, hi))
			break;
	if (!a) {
		a = map_area(lo, hi, &ret, err, errlen);
		if (!a)
			return ret;
		a->next = areas;
		areas = a;
	}
	for (unsigned i = 0; i < AREA_STUBS; i++) {
		if (a->busy[i])
			continue;
		a->busy[i] = 1;
		a->used++;
		*jmp = a->code + i * 8;
		*slot = a->code + PAGE + i * 8;
		return 0;
	}
	return -ENOSPC; /* unreachable: used < AREA_STUBS */
}

void hp_tramp_free(uintptr_t jmp)
{
	for (struct area *a = areas; a; a = a->next) {
		if (jmp < a->code || jmp >= a->code + PAGE)
			continue;
		a->busy[(jmp - a->code) / 8] = 0;
		a->used--;
		return;
	}
}

size_t hp_tramp_in_use(void)
{
	size_t n = 0;

	for (struct area *a = areas; a; a = a->next)
		n += a->used;
	return n;
}
