/* (Named mp_dwarf.h so that <dwarf.h> stays libdwarf's.)
 * The DWARF of one binary, reduced to a forest of DIEs with the handful of
 * attributes the type checks need. dwarf.c is the only file that calls
 * libdwarf, so moving to a newer libdwarf API is a local change. */
#ifndef MP_DWARF_H
#define MP_DWARF_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"
#include "strmap.h"

#define MP_DIE_NONE UINT32_MAX

struct mp_die {
	uint64_t off;	  /* global .debug_info offset */
	uint64_t type;	  /* DW_AT_type as a global offset; 0 when absent */
	const char *name; /* "" when absent */
	uint64_t byte_size, count, member_offset, bit_size, bit_offset;
	uint32_t parent, first_child, next_sibling, cu;
	uint16_t tag;
	bool declaration, has_count;
};

struct mp_dwarf {
	void *dbg;	     /* Dwarf_Debug */
	struct mp_die *dies; /* pre-order, so sorted by offset */
	uint32_t ndies, cap;
	uint32_t *cus; /* index of each compile unit's DIE */
	uint32_t ncus, cus_cap;
	/* (name, CU name) -> DIE index + 1 for top-level definitions of
	 * subprograms and variables, and (tag-prefixed type name, CU name)
	 * for complete struct/union/enum types anywhere in the CU. */
	struct mp_map top;
	struct mp_map types;
	char **keys; /* owned key strings of the maps */
	uint32_t nkeys, keys_cap;
};

/* Loads the DWARF of e. An ELF without debug info gives 0 and ndies == 0. */
int mp_dwarf_load(struct mp_dwarf *dw, const struct mp_elf *e, struct mp_diag *d);
void mp_dwarf_release(struct mp_dwarf *dw);

/* The DIE at a global offset, or NULL. */
const struct mp_die *mp_dwarf_die_at(const struct mp_dwarf *dw, uint64_t off);
/* The CU whose name is source (exactly, or ending in "/source"); NONE if none. */
uint32_t mp_dwarf_find_cu(const struct mp_dwarf *dw, const char *source);

#endif
