/* store.h — the in-memory key-value table shared by all worker threads.
 * A fixed array of hash buckets guarded by a smaller array of mutexes
 * (lock striping): two requests only contend when their keys hash to the
 * same stripe. */
#ifndef HPKV_STORE_H
#define HPKV_STORE_H

#include <stddef.h>

struct store;

/* Error codes of the store, all negative. */
enum {
	STORE_NOTFOUND = -1,
	STORE_NOMEM = -2,
	STORE_NOT_INT = -3,  /* INCR on a value that is not an integer */
	STORE_OVERFLOW = -4, /* INCR result out of 64-bit range */
	STORE_TOO_LONG = -5, /* APPEND result longer than HPKV_MAX_VALUE */
};

/* Returns a new empty store, or NULL when out of memory. */
struct store *store_new(void);
/* Frees every entry; no other thread may use @st any more. */
void store_free(struct store *st);

/* Calls @fn(@arg, value, len) with the value of @key while its stripe is
 * locked, so the caller can copy it out without a second allocation.
 * Returns 0 or STORE_NOTFOUND. */
int store_get(struct store *st, const char *key, size_t klen,
	      void (*fn)(void *arg, const char *value, size_t len), void *arg);
/* Sets @key to a copy of @value. Returns 0 or STORE_NOMEM. */
int store_set(struct store *st, const char *key, size_t klen, const char *value, size_t vlen);
/* Removes @key. Returns 0 or STORE_NOTFOUND. */
int store_del(struct store *st, const char *key, size_t klen);
/* Adds @by to the integer held by @key (a missing key counts as 0) and
 * stores the result in *@result. Returns 0 or a negative STORE_* code. */
int store_incr(struct store *st, const char *key, size_t klen, long long by, long long *result);
/* Appends @value to @key (creating it) and stores the new length in *@newlen.
 * Returns 0 or a negative STORE_* code. */
int store_append(struct store *st, const char *key, size_t klen, const char *value, size_t vlen,
		 size_t *newlen);
/* Number of keys held right now. */
size_t store_count(struct store *st);

#endif
