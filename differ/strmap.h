/* A hash map keyed by a pair of strings (e.g. symbol name and translation
 * unit), holding one pointer per key. Callers that need several values per
 * key chain them through their own structures. Keys are not copied. */
#ifndef MP_STRMAP_H
#define MP_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct mp_map_slot {
	const char *a, *b;
	uint64_t hash;
	void *val;
};

struct mp_map {
	struct mp_map_slot *slots;
	size_t cap, count;
};

void mp_map_init(struct mp_map *m);
void mp_map_release(struct mp_map *m);
/* Sets key (a, b) to val; *old gets the previous value (NULL if none).
 * Returns 0 or -ENOMEM. b may be NULL (same as ""). */
int mp_map_put(struct mp_map *m, const char *a, const char *b, void *val, void **old);
void *mp_map_get(const struct mp_map *m, const char *a, const char *b);

#endif
