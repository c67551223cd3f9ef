#define _GNU_SOURCE
/* Loading DWARF with libdwarf (Debian 12: 20210528, the pre-0.x API).
 * Every libdwarf call of mkpatch is in this file. */
#include "mp_dwarf.h"

#include <dwarf.h>
#include <errno.h>
#include <libdwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loader {
	struct mp_dwarf *dw;
	Dwarf_Debug dbg;
	uint32_t cu;
};

static void drop_error(Dwarf_Debug dbg, Dwarf_Error err)
{
	if (err)
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
}

static bool attr_udata(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, uint64_t *out)
{
	Dwarf_Attribute attr;
	Dwarf_Error err = NULL;
	if (dwarf_attr(die, at, &attr, &err) != DW_DLV_OK) {
		drop_error(dbg, err);
		return false;
	}
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	bool ok = true;
	if (dwarf_formudata(attr, &u, &err) == DW_DLV_OK) {
		*out = u;
	} else {
		drop_error(dbg, err);
		err = NULL;
		if (dwarf_formsdata(attr, &s, &err) == DW_DLV_OK)
			*out = (uint64_t)s;
		else
			ok = false;
		drop_error(dbg, err);
	}
	dwarf_dealloc(dbg, attr, DW_DLA_ATTR);
	return ok;
}

static uint64_t attr_ref(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute attr;
	Dwarf_Error err = NULL;
	Dwarf_Off off = 0;
	if (dwarf_attr(die, at, &attr, &err) != DW_DLV_OK) {
		drop_error(dbg, err);
		return 0;
	}
	if (dwarf_global_formref(attr, &off, &err) != DW_DLV_OK) {
		drop_error(dbg, err);
		off = 0;
	}
	dwarf_dealloc(dbg, attr, DW_DLA_ATTR);
	return off;
}

static bool attr_present(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Bool has = 0;
	Dwarf_Error err = NULL;
	if (dwarf_hasattr(die, at, &has, &err) != DW_DLV_OK)
		drop_error(dbg, err);
	return has;
}

static int push_die(struct loader *l, Dwarf_Die die, uint32_t parent, uint32_t *out)
{
	struct mp_dwarf *dw = l->dw;
	if (dw->ndies == dw->cap) {
		uint32_t cap = dw->cap ? dw->cap * 2 : 1024;
		void *p = realloc(dw->dies, sizeof(*dw->dies) * cap);
		if (!p)
			return -ENOMEM;
		dw->dies = p;
		dw->cap = cap;
	}
	struct mp_die *m = &dw->dies[dw->ndies];
	memset(m, 0, sizeof(*m));
	Dwarf_Error err = NULL;
	Dwarf_Half tag = 0;
	Dwarf_Off off = 0;
	char *name = NULL;
	if (dwarf_tag(die, &tag, &err) != DW_DLV_OK ||
	    dwarf_dieoffset(die, &off, &err) != DW_DLV_OK) {
		drop_error(l->dbg, err);
		return -EINVAL;
	}
	if (dwarf_diename(die, &name, &err) != DW_DLV_OK) {
		drop_error(l->dbg, err);
		name = NULL;
	}
	m->tag = tag;
	m->off = off;
	m->name = name ? name : "";
	m->type = attr_ref(l->dbg, die, DW_AT_type);
	attr_udata(l->dbg, die, DW_AT_byte_size, &m->byte_size);
	attr_udata(l->dbg, die, DW_AT_data_member_location, &m->member_offset);
	attr_udata(l->dbg, die, DW_AT_bit_size, &m->bit_size);
	if (!attr_udata(l->dbg, die, DW_AT_data_bit_offset, &m->bit_offset))
		attr_udata(l->dbg, die, DW_AT_bit_offset, &m->bit_offset);
	if (attr_udata(l->dbg, die, DW_AT_count, &m->count)) {
		m->has_count = true;
	} else if (attr_udata(l->dbg, die, DW_AT_upper_bound, &m->count)) {
		m->count++;
		m->has_count = true;
	}
	m->declaration = attr_present(l->dbg, die, DW_AT_declaration);
	m->parent = parent;
	m->first_child = m->next_sibling = MP_DIE_NONE;
	m->cu = l->cu;
	*out = dw->ndies++;
	return 0;
}

/* Walks die and its siblings (and their children) in pre-order. */
static int walk(struct loader *l, Dwarf_Die die, uint32_t parent, unsigned depth)
{
	uint32_t prev = MP_DIE_NONE;
	int ret = 0;
	while (die && !ret) {
		uint32_t idx;
		ret = push_die(l, die, parent, &idx);
		if (ret)
			break;
		if (prev == MP_DIE_NONE && parent != MP_DIE_NONE)
			l->dw->dies[parent].first_child = idx;
		else if (prev != MP_DIE_NONE)
			l->dw->dies[prev].next_sibling = idx;
		prev = idx;
		Dwarf_Die child = NULL, sib = NULL;
		Dwarf_Error err = NULL;
		if (depth < 64 && dwarf_child(die, &child, &err) == DW_DLV_OK) {
			ret = walk(l, child, idx, depth + 1);
		} else {
			drop_error(l->dbg, err);
		}
		err = NULL;
		int r = dwarf_siblingof_b(l->dbg, die, 1, &sib, &err);
		drop_error(l->dbg, err);
		dwarf_dealloc(l->dbg, die, DW_DLA_DIE);
		die = r == DW_DLV_OK ? sib : NULL;
	}
	if (die)
		dwarf_dealloc(l->dbg, die, DW_DLA_DIE);
	return ret;
}

static int add_cu(struct mp_dwarf *dw, uint32_t idx)
{
	if (dw->ncus == dw->cus_cap) {
		uint32_t cap = dw->cus_cap ? dw->cus_cap * 2 : 64;
		void *p = realloc(dw->cus, sizeof(*dw->cus) * cap);
		if (!p)
			return -ENOMEM;
		dw->cus = p;
		dw->cus_cap = cap;
	}
	dw->cus[dw->ncus++] = idx;
	return 0;
}

static int load_cus(struct loader *l)
{
	for (;;) {
		Dwarf_Unsigned len, abbrev, next;
		Dwarf_Half ver, asz, lsz, esz, cu_type;
		Dwarf_Off abbrev_off, typeoff;
		Dwarf_Sig8 sig;
		Dwarf_Error err = NULL;
		(void)abbrev;
		int r = dwarf_next_cu_header_d(l->dbg, 1, &len, &ver, &abbrev_off, &asz, &lsz, &esz,
					       &sig, &typeoff, &next, &cu_type, &err);
		if (r == DW_DLV_NO_ENTRY)
			return 0;
		if (r != DW_DLV_OK) {
			drop_error(l->dbg, err);
			return -EINVAL;
		}
		Dwarf_Die cu = NULL;
		if (dwarf_siblingof_b(l->dbg, NULL, 1, &cu, &err) != DW_DLV_OK) {
			drop_error(l->dbg, err);
			return -EINVAL;
		}
		l->cu = l->dw->ndies;
		int ret = add_cu(l->dw, l->cu);
		if (!ret)
			ret = walk(l, cu, MP_DIE_NONE, 0);
		if (ret)
			return ret;
	}
}

static const char *own_key(struct mp_dwarf *dw, const char *prefix, const char *name)
{
	if (dw->nkeys == dw->keys_cap) {
		uint32_t cap = dw->keys_cap ? dw->keys_cap * 2 : 256;
		void *p = realloc(dw->keys, sizeof(*dw->keys) * cap);
		if (!p)
			return NULL;
		dw->keys = p;
		dw->keys_cap = cap;
	}
	char *k;
	if (asprintf(&k, "%s%s", prefix, name) < 0)
		return NULL;
	dw->keys[dw->nkeys++] = k;
	return k;
}

static const char *type_prefix(uint16_t tag)
{
	switch (tag) {
	case DW_TAG_structure_type:
		return "struct ";
	case DW_TAG_union_type:
		return "union ";
	case DW_TAG_enumeration_type:
		return "enum ";
	default:
		return NULL;
	}
}

static int index_dies(struct mp_dwarf *dw)
{
	for (uint32_t i = 0; i < dw->ndies; i++) {
		struct mp_die *m = &dw->dies[i];
		if (!*m->name || m->declaration)
			continue;
		const char *cu = dw->dies[m->cu].name;
		const char *prefix = type_prefix(m->tag);
		int err = 0;
		/* typedef struct { ... } name_t: the struct is known by the
		 * typedef's name (check_types.c compares it as "typedef name_t") */
		const struct mp_die *t =
			m->tag == DW_TAG_typedef && m->type ? mp_dwarf_die_at(dw, m->type) : NULL;
		if (t && !*t->name && !t->declaration &&
		    (t->tag == DW_TAG_structure_type || t->tag == DW_TAG_union_type)) {
			const char *key = own_key(dw, "typedef ", m->name);
			if (!key)
				return -ENOMEM;
			if (!mp_map_get(&dw->types, key, cu))
				err = mp_map_put(&dw->types, key, cu,
						 (void *)(uintptr_t)((uint32_t)(t - dw->dies) + 1),
						 NULL);
		} else if (prefix) {
			const char *key = own_key(dw, prefix, m->name);
			if (!key)
				return -ENOMEM;
			if (!mp_map_get(&dw->types, key, cu))
				err = mp_map_put(&dw->types, key, cu, (void *)(uintptr_t)(i + 1),
						 NULL);
		} else if ((m->tag == DW_TAG_subprogram || m->tag == DW_TAG_variable) &&
			   m->parent == m->cu) {
			err = mp_map_put(&dw->top, m->name, cu, (void *)(uintptr_t)(i + 1), NULL);
		}
		if (err)
			return err;
	}
	return 0;
}

int mp_dwarf_load(struct mp_dwarf *dw, const struct mp_elf *e, struct mp_diag *d)
{
	memset(dw, 0, sizeof(*dw));
	if (!e->has_debug_info)
		return 0;
	Dwarf_Debug dbg = NULL;
	Dwarf_Error err = NULL;
	int r = dwarf_init_b(e->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &dbg, &err);
	if (r == DW_DLV_NO_ENTRY)
		return 0;
	if (r != DW_DLV_OK) {
		int ret = mp_fail(d, HP_EMALFORMED, "'%s': unreadable DWARF: %s", e->path,
				  err ? dwarf_errmsg(err) : "?");
		drop_error(dbg, err);
		return ret;
	}
	dw->dbg = dbg;
	struct loader l = {.dw = dw, .dbg = dbg};
	int ret = load_cus(&l);
	if (!ret)
		ret = index_dies(dw);
	if (ret == -EINVAL)
		return mp_fail(d, HP_EMALFORMED, "'%s': malformed DWARF", e->path);
	if (ret)
		return mp_fail(d, -ret, "out of memory reading DWARF of '%s'", e->path);
	return 0;
}

void mp_dwarf_release(struct mp_dwarf *dw)
{
	if (dw->dbg) {
		Dwarf_Error err = NULL;
		dwarf_finish(dw->dbg, &err);
	}
	for (uint32_t i = 0; i < dw->nkeys; i++)
		free(dw->keys[i]);
	free(dw->keys);
	free(dw->dies);
	free(dw->cus);
	mp_map_release(&dw->top);
	mp_map_release(&dw->types);
	memset(dw, 0, sizeof(*dw));
}

const struct mp_die *mp_dwarf_die_at(const struct mp_dwarf *dw, uint64_t off)
{
	uint32_t lo = 0, hi = dw->ndies;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (dw->dies[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < dw->ndies && dw->dies[lo].off == off ? &dw->dies[lo] : NULL;
}

uint32_t mp_dwarf_find_cu(const struct mp_dwarf *dw, const char *source)
{
	size_t sl = strlen(source);
	for (uint32_t i = 0; i < dw->ncus; i++) {
		const char *n = dw->dies[dw->cus[i]].name;
		size_t nl = strlen(n);
		if (!strcmp(n, source) ||
		    (nl > sl && n[nl - sl - 1] == '/' && !strcmp(n + nl - sl, source)) ||
		    (sl > nl && source[sl - nl - 1] == '/' && !strcmp(source + sl - nl, n)))
			return dw->cus[i];
	}
	return MP_DIE_NONE;
}
