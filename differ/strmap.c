#include "strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_pair(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 0x100000001b3ull;
	return h ? h : 1;
}

void mp_map_init(struct mp_map *m)
{
	memset(m, 0, sizeof(*m));
}

void mp_map_release(struct mp_map *m)
{
	free(m->slots);
	mp_map_init(m);
}

static struct mp_map_slot *find_slot(struct mp_map_slot *slots, size_t cap, const char *a,
				     const char *b, uint64_t h)
{
	size_t i = h & (cap - 1);
	for (;;) {
		struct mp_map_slot *s = &slots[i];
		if (!s->hash)
			return s;
		if (s->hash == h && !strcmp(s->a, a) && !strcmp(s->b, b))
			return s;
		i = (i + 1) & (cap - 1);
	}
}

static int grow(struct mp_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct mp_map_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct mp_map_slot *s = &m->slots[i];
		if (s->hash)
			*find_slot(slots, cap, s->a, s->b, s->hash) = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int mp_map_put(struct mp_map *m, const char *a, const char *b, void *val, void **old)
{
	if (!b)
		b = "";
	if ((m->count + 1) * 2 > m->cap) {
		int err = grow(m);
		if (err)
			return err;
	}
	uint64_t h = hash_pair(a, b);
	struct mp_map_slot *s = find_slot(m->slots, m->cap, a, b, h);
	if (old)
		*old = s->hash ? s->val : NULL;
	if (!s->hash) {
		s->hash = h;
		s->a = a;
		s->b = b;
		m->count++;
	}
	s->val = val;
	return 0;
}

void *mp_map_get(const struct mp_map *m, const char *a, const char *b)
{
	if (!m->cap)
		return NULL;
	if (!b)
		b = "";
	uint64_t h = hash_pair(a, b);
	struct mp_map_slot *s = find_slot(m->slots, m->cap, a, b, h);
	return s->hash ? s->val : NULL;
}
