/* Shadow variables: data a fix attaches to an existing object (by its
 * address) under a number of its choosing, so a fix that would add a
 * struct field can keep the struct and keep the new data beside it.
 *
 * Lookups take no lock: each bucket has a sequence count that writers make
 * odd while they change its chain, and a reader that saw it change (or
 * odd) looks again. Nodes are never given back to malloc, only to a free
 * list of this file, so a reader that follows a node just unlinked (or
 * reused) still reads memory of a node; the sequence count tells it to
 * retry. Writers take one mutex. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_internal.h"

#define SHADOW_BUCKETS 4096
#define SHADOW_MAX_STEPS 1000000 /* a reader led astray by reuse retries */

struct shadow {
	const void *obj;
	unsigned long id;
	void *data;
	struct shadow *next;
};

static struct bucket {
	unsigned seq; /* odd while a writer changes this chain */
	struct shadow *head;
} buckets[SHADOW_BUCKETS];

static pthread_mutex_t shadow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shadow *free_nodes; /* under shadow_lock */

static struct bucket *bucket_of(const void *obj, unsigned long id)
{
	uint64_t h = ((uint64_t)(uintptr_t)obj >> 4) ^ ((uint64_t)id * 0x9e3779b97f4a7c15ull);

	h ^= h >> 29;
	return &buckets[(h * 0xbf58476d1ce4e5b9ull) >> 52];
}

#define LOAD(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define LOAD_RELAXED(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

HP_EXPORT void *hp_shadow_get(const void *obj, unsigned long id)
{
	struct bucket *b = bucket_of(obj, id);

	for (;;) {
		unsigned seq = LOAD(b->seq);
		void *found = NULL;
		size_t steps = 0;

		if (seq & 1)
			continue;
		for (struct shadow *s = LOAD(b->head); s && steps < SHADOW_MAX_STEPS;
		     s = LOAD(s->next), steps++)
			if (LOAD_RELAXED(s->obj) == obj && LOAD_RELAXED(s->id) == id) {
				found = LOAD_RELAXED(s->data);
				break;
			}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (steps < SHADOW_MAX_STEPS && LOAD_RELAXED(b->seq) == seq)
			return found;
	}
}

static void write_begin(struct bucket *b)
{
	STORE(b->seq, b->seq + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void write_end(struct bucket *b)
{
	STORE(b->seq, b->seq + 1);
}

/* Under shadow_lock: the node of (obj, id) in b, or NULL. */
static struct shadow *find_locked(struct bucket *b, const void *obj, unsigned long id)
{
	for (struct shadow *s = b->head; s; s = s->next)
		if (s->obj == obj && s->id == id)
			return s;
	return NULL;
}

static void *alloc_shadow(const void *obj, unsigned long id, size_t size, int existing_ok)
{
	struct bucket *b = bucket_of(obj, id);
	struct shadow *s;
	void *data;

	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&shadow_lock);
	s = find_locked(b, obj, id);
	if (s) {
		data = existing_ok ? s->data : NULL;
		pthread_mutex_unlock(&shadow_lock);
		if (!data)
			errno = EEXIST;
		return data;
	}
	data = calloc(1, size);
	s = free_nodes;
	if (s)
		free_nodes = s->next;
	else
		s = malloc(sizeof(*s));
	if (!data || !s) {
		if (s) {
			s->next = free_nodes;
			free_nodes = s;
		}
		pthread_mutex_unlock(&shadow_lock);
		free(data);
		errno = ENOMEM;
		return NULL;
	}
	write_begin(b);
	STORE(s->obj, obj);
	STORE(s->id, id);
	STORE(s->data, data);
	STORE(s->next, b->head);
	STORE(b->head, s);
	write_end(b);
	pthread_mutex_unlock(&shadow_lock);
	return data;
}

HP_EXPORT void *hp_shadow_alloc(const void *obj, unsigned long id, size_t size)
{
	return alloc_shadow(obj, id, size, 0);
}

HP_EXPORT void *hp_shadow_get_or_alloc(const void *obj, unsigned long id, size_t size)
{
	void *data = hp_shadow_get(obj, id);

	return data ? data : alloc_shadow(obj, id, size, 1);
}

/* Under shadow_lock: unlinks *link's node, frees its data and keeps the
 * node for reuse. */
static void unlink_locked(struct bucket *b, struct shadow **link)
{
	struct shadow *s = *link;

	write_begin(b);
	STORE(*link, s->next);
	write_end(b);
	free(s->data);
	STORE(s->data, NULL);
	STORE(s->obj, NULL);
	STORE(s->next, free_nodes);
	free_nodes = s;
}

HP_EXPORT void hp_shadow_free(const void *obj, unsigned long id)
{
	struct bucket *b = bucket_of(obj, id);

	pthread_mutex_lock(&shadow_lock);
	for (struct shadow **link = &b->head; *link; link = &(*link)->next)
		if ((*link)->obj == obj && (*link)->id == id) {
			unlink_locked(b, link);
			break;
		}
	pthread_mutex_unlock(&shadow_lock);
}

HP_EXPORT size_t hp_shadow_free_all(unsigned long id)
{
	size_t n = 0;

	pthread_mutex_lock(&shadow_lock);
	for (size_t i = 0; i < SHADOW_BUCKETS; i++)
		for (struct shadow **link = &buckets[i].head; *link;) {
			if ((*link)->id == id) {
				unlink_locked(&buckets[i], link);
				n++;
			} else {
				link = &(*link)->next;
			}
		}
	pthread_mutex_unlock(&shadow_lock);
	return n;
}
