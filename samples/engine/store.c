/* store.c — striped-lock hash table. */
#include "store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* 64 Ki buckets keep chains short for the load client's working set; 256
 * stripes are plenty for a few dozen threads and cost 10 KiB of mutexes. */
#define STORE_BUCKETS (1u << 16)
#define STORE_STRIPES 256u

struct entry {
	struct entry *next;
	unsigned int hash;
	unsigned short klen;
	unsigned short vlen;
	char *value;
	char key[];
};

struct store {
	pthread_mutex_t stripes[STORE_STRIPES];
	unsigned long count;
	struct entry *buckets[STORE_BUCKETS];
};

/* FNV-1a: short, branch-free, good enough for text keys. Small and static
 * so it is inlined into every operation. */
static inline unsigned int key_hash(const char *key, size_t klen)
{
	unsigned int h = 2166136261u;

	for (size_t i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
}

static inline pthread_mutex_t *stripe_of(struct store *st, unsigned int hash)
{
	return &st->stripes[hash & (STORE_STRIPES - 1)];
}

/* Returns the link that points at @key's entry (or at NULL where it would
 * go), so callers can insert or unlink without a second walk. */
static struct entry **find_link(struct store *st, unsigned int hash, const char *key, size_t klen)
{
	struct entry **link = &st->buckets[hash & (STORE_BUCKETS - 1)];

	for (; *link; link = &(*link)->next) {
		struct entry *e = *link;

		if (e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0)
			break;
	}
	return link;
}

static struct entry *entry_new(unsigned int hash, const char *key, size_t klen)
{
	struct entry *e = calloc(1, sizeof(*e) + klen);

	if (!e)
		return NULL;
	e->hash = hash;
	e->klen = (unsigned short)klen;
	memcpy(e->key, key, klen);
	return e;
}

static void entry_free(struct entry *e)
{
	free(e->value);
	free(e);
}

/* Replaces @e's value by @len bytes taken from @a then @b (either may be
 * empty), which serves SET, APPEND and INCR alike. */
static int entry_put(struct entry *e, const char *a, size_t alen, const char *b, size_t blen)
{
	char *v = malloc(alen + blen + 1);

	if (!v)
		return STORE_NOMEM;
	memcpy(v, a, alen);
	memcpy(v + alen, b, blen);
	v[alen + blen] = '\0';
	free(e->value);
	e->value = v;
	e->vlen = alen + blen;
	return 0;
}

struct store *store_new(void)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	for (unsigned i = 0; i < STORE_STRIPES; i++)
		pthread_mutex_init(&st->stripes[i], NULL);
	return st;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	for (unsigned b = 0; b < STORE_BUCKETS; b++) {
		struct entry *e = st->buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	for (unsigned i = 0; i < STORE_STRIPES; i++)
		pthread_mutex_destroy(&st->stripes[i]);
	free(st);
}

int store_get(struct store *st, const char *key, size_t klen,
	      void (*fn)(void *arg, const char *value, size_t len), void *arg)
{
	unsigned int hash = key_hash(key, klen);
	pthread_mutex_t *lock = stripe_of(st, hash);
	struct entry *e;
	int ret = STORE_NOTFOUND;

	pthread_mutex_lock(lock);
	e = *find_link(st, hash, key, klen);
	if (e) {
		fn(arg, e->value, e->vlen);
		ret = 0;
	}
	pthread_mutex_unlock(lock);
	return ret;
}

/* Returns @key's entry, creating an empty one if needed (NULL: no memory).
 * *@created tells the caller to drop it again if filling it fails. */
static struct entry *find_or_create(struct store *st, unsigned int hash, const char *key,
				    size_t klen, bool *created)
{
	struct entry **link = find_link(st, hash, key, klen);

	*created = false;
	if (*link)
		return *link;
	*link = entry_new(hash, key, klen);
	if (*link) {
		*created = true;
		__atomic_fetch_add(&st->count, 1, __ATOMIC_RELAXED);
	}
	return *link;
}

static void drop_created(struct store *st, unsigned int hash, const char *key, size_t klen)
{
	struct entry **link = find_link(st, hash, key, klen);
	struct entry *e = *link;

	*link = e->next;
	entry_free(e);
	__atomic_fetch_sub(&st->count, 1, __ATOMIC_RELAXED);
}

int store_set(struct store *st, const char *key, size_t klen, const char *value, size_t vlen)
{
	unsigned int hash = key_hash(key, klen);
	pthread_mutex_t *lock = stripe_of(st, hash);
	struct entry *e;
	bool created;
	int ret = STORE_NOMEM;

	pthread_mutex_lock(lock);
	e = find_or_create(st, hash, key, klen, &created);
	if (e) {
		ret = entry_put(e, value, vlen, "", 0);
		if (ret && created)
			drop_created(st, hash, key, klen);
	}
	pthread_mutex_unlock(lock);
	return ret;
}

int store_del(struct store *st, const char *key, size_t klen)
{
	unsigned int hash = key_hash(key, klen);
	pthread_mutex_t *lock = stripe_of(st, hash);
	struct entry **link, *e;
	int ret = STORE_NOTFOUND;

	pthread_mutex_lock(lock);
	link = find_link(st, hash, key, klen);
	e = *link;
	if (e) {
		*link = e->next;
		entry_free(e);
		__atomic_fetch_sub(&st->count, 1, __ATOMIC_RELAXED);
		ret = 0;
	}
	pthread_mutex_unlock(lock);
	return ret;
}

static int incr_locked(struct entry *e, long long by, long long *result)
{
	long long cur = 0, sum;
	char buf[32];
	int len;

	if (e->value && proto_parse_int(e->value, e->vlen, &cur) != 0)
		return STORE_NOT_INT;
	if (__builtin_add_overflow(cur, by, &sum))
		return STORE_OVERFLOW;
	len = snprintf(buf, sizeof(buf), "%lld", sum);
	if (entry_put(e, buf, (size_t)len, "", 0) != 0)
		return STORE_NOMEM;
	*result = sum;
	return 0;
}

int store_incr(struct store *st, const char *key, size_t klen, long long by, long long *result)
{
	unsigned int hash = key_hash(key, klen);
	pthread_mutex_t *lock = stripe_of(st, hash);
	struct entry *e;
	bool created;
	int ret = STORE_NOMEM;

	pthread_mutex_lock(lock);
	e = find_or_create(st, hash, key, klen, &created);
	if (e) {
		ret = incr_locked(e, by, result);
		if (ret && created)
			drop_created(st, hash, key, klen);
	}
	pthread_mutex_unlock(lock);
	return ret;
}

int store_append(struct store *st, const char *key, size_t klen, const char *value, size_t vlen,
		 size_t *newlen)
{
	unsigned int hash = key_hash(key, klen);
	pthread_mutex_t *lock = stripe_of(st, hash);
	struct entry *e;
	bool created;
	int ret = STORE_NOMEM;

	pthread_mutex_lock(lock);
	e = find_or_create(st, hash, key, klen, &created);
	if (e) {
		if ((size_t)e->vlen + vlen > HPKV_MAX_VALUE)
			ret = STORE_TOO_LONG;
		else
			ret = entry_put(e, e->value ? e->value : "", e->vlen, value, vlen);
		if (ret == 0)
			*newlen = e->vlen;
		else if (created)
			drop_created(st, hash, key, klen);
	}
	pthread_mutex_unlock(lock);
	return ret;
}

size_t store_count(struct store *st)
{
	return __atomic_load_n(&st->count, __ATOMIC_RELAXED);
}
