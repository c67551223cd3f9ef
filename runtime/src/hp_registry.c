/* The registry: every function patched so far ("site") and every applied
 * patch, under one lock; the flag that lets one apply or revert run at a
 * time; and the snapshots list, status and the old-code scan read. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hp_core.h"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int op_busy;
static struct hp_site *sites;
static struct hp_patch *patches;
static unsigned next_id = 1;

/* The operation flag is a plain atomic, not a lock: whoever took it (the
 * C API's caller, or a control connection's thread) gives it back on the
 * same thread once the operation ends, and nothing waits for it. */
int hp_op_begin(void)
{
	int idle = 0;

	return __atomic_compare_exchange_n(&op_busy, &idle, 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED)
		       ? 0
		       : -EBUSY;
}

void hp_op_end(void)
{
	__atomic_store_n(&op_busy, 0, __ATOMIC_RELEASE);
}

void hp_registry_lock(void)
{
	pthread_mutex_lock(&state_lock);
}

void hp_registry_unlock(void)
{
	pthread_mutex_unlock(&state_lock);
}

void hp_patch_atfork_prepare(void)
{
	pthread_mutex_lock(&state_lock);
}

void hp_patch_atfork_parent(void)
{
	pthread_mutex_unlock(&state_lock);
}

void hp_patch_atfork_child(void)
{
	pthread_mutex_init(&state_lock, NULL);
	hp_op_end();
}

struct hp_site *hp_site_find(uintptr_t sym)
{
	for (struct hp_site *s = sites; s; s = s->next)
		if (s->sym == sym)
			return s;
	return NULL;
}

struct hp_site *hp_site_new(const struct hp_manifest_func *f, uintptr_t bias)
{
	struct hp_site *s = calloc(1, sizeof(*s));
	int8_t disp;

	if (!s)
		return NULL;
	s->sym = bias + f->target_offset;
	s->entry = s->sym + f->entry_offset;
	s->orig_pad = s->cur_pad = hp_load_in_quad(s->sym - HP_PAD_BYTES, HP_PAD_BYTES);
	s->orig_entry = (uint16_t)hp_load_in_quad(s->entry, 2);
	/* jmp sym-5 from the end of the 2-byte jump at entry. */
	disp = (int8_t) - (int)(f->entry_offset + 7);
	s->jmp_entry = 0xeb | ((uint16_t)(uint8_t)disp << 8);
	return s;
}

void hp_site_link(struct hp_site *s)
{
	s->next = sites;
	sites = s;
}

struct hp_site *hp_sites(void)
{
	return sites;
}

void hp_site_free(struct hp_site *s)
{
	if (s->tramp)
		hp_tramp_free(s->tramp);
	free(s->layers);
	free(s);
}

int hp_site_reserve(struct hp_site *s)
{
	if (s->nlayers == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 2;
		struct hp_layer *l = realloc(s->layers, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		s->layers = l;
		s->cap = cap;
	}
	return 0;
}

void hp_site_push(struct hp_site *s, struct hp_patch *p, uintptr_t repl)
{
	s->layers[s->nlayers++] = (struct hp_layer){p, repl};
}

size_t hp_site_layer_of(const struct hp_site *s, const struct hp_patch *p)
{
	size_t k = 0;

	while (k < s->nlayers && s->layers[k].patch != p)
		k++;
	return k;
}

void hp_site_drop(struct hp_site *s, const struct hp_patch *p)
{
	size_t k = hp_site_layer_of(s, p);

	if (k == s->nlayers)
		return;
	memmove(&s->layers[k], &s->layers[k + 1], (s->nlayers - k - 1) * sizeof(*s->layers));
	s->nlayers--;
}

struct hp_patch *hp_patch_find(const char *name)
{
	struct hp_patch *p, *last = NULL;
	char *end;
	unsigned long id;

	for (p = patches; p; p = p->next)
		last = p;
	if (!name || !*name)
		return last;
	id = strtoul(name, &end, 10);
	for (p = patches; p; p = p->next)
		if ((*end == 0 && p->id == id) || strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

void hp_patch_add(struct hp_patch *p)
{
	struct hp_patch **pp = &patches;

	p->id = next_id++;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
}

void hp_patch_remove(struct hp_patch *p)
{
	for (struct hp_patch **pp = &patches; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

void hp_patch_free(struct hp_patch *p)
{
	if (!p)
		return;
	free(p->sites);
	free(p->name);
	hp_manifest_free(p->m);
	free(p);
}

void hp_registry_counts(size_t *nsites, size_t *patched)
{
	*nsites = *patched = 0;
	pthread_mutex_lock(&state_lock);
	for (struct hp_site *s = sites; s; s = s->next) {
		++*nsites;
		*patched += s->nlayers > 0;
	}
	pthread_mutex_unlock(&state_lock);
}

/* ---- snapshots ---- */

static char *put(char **cur, const char *s);

static int by_start(const void *a, const void *b)
{
	const struct hp_code_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int hp_patch_code_ranges(unsigned id, struct hp_code_range **out, size_t *n)
{
	size_t count = 0, names = 0, k = 0;
	struct hp_code_range *r;
	char *cur;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&state_lock);
	for (struct hp_patch *p = patches; p; p = p->next)
		for (size_t j = 0; (!id || p->id == id) && j < p->m->func_count; j++) {
			count++;
			names += strlen(p->m->funcs[j].name) + 1;
		}
	r = malloc(count * sizeof(*r) + names + 1);
	if (!r) {
		pthread_mutex_unlock(&state_lock);
		return -ENOMEM;
	}
	cur = (char *)(r + count);
	for (struct hp_patch *p = patches; p; p = p->next)
		for (size_t j = 0; (!id || p->id == id) && j < p->m->func_count; j++) {
			const struct hp_manifest_func *f = &p->m->funcs[j];
			r[k++] = (struct hp_code_range){
				.start = p->sites[j]->sym,
				.end = p->sites[j]->sym + f->expected_size,
				.patch = p->id,
				.name = put(&cur, f->name),
			};
		}
	pthread_mutex_unlock(&state_lock);
	/* Oldest patch first in the list, and qsort is not stable: keep the
	 * first of equal starts by patch id. */
	qsort(r, k, sizeof(*r), by_start);
	size_t w = 0;
	for (size_t i = 0; i < k; i++) {
		if (w && r[w - 1].start == r[i].start) {
			if (r[i].patch < r[w - 1].patch)
				r[w - 1] = r[i];
			continue;
		}
		r[w++] = r[i];
	}
	*out = r;
	*n = w;
	return 0;
}

/* ---- list (public API) ---- */

struct hp_list {
	size_t n;
	struct list_entry {
		struct hp_patch_info info;
		const char *signer;
		const char **funcs;
	} * e;
	char *strings; /* one block holding every string of the snapshot */
};

static size_t patch_strings_size(const struct hp_patch *p)
{
	size_t n = strlen(p->name) + strlen(p->m->target_name) + strlen(p->m->description) + 3 +
		   HP_PKG_KEY_ID_LEN;

	for (size_t j = 0; j < p->m->func_count; j++)
		n += strlen(p->m->funcs[j].name) + 1;
	return n;
}

static char *put(char **cur, const char *s)
{
	char *r = *cur;
	size_t len = strlen(s) + 1;

	memcpy(r, s, len);
	*cur += len;
	return r;
}

HP_EXPORT int hp_list_get(struct hp_list **out)
{
	struct hp_list *l = calloc(1, sizeof(*l));
	size_t bytes = 1, nfuncs = 0, k = 0, f = 0;
	const char **funcs;
	char *cur;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	pthread_mutex_lock(&state_lock);
	for (struct hp_patch *p = patches; p; p = p->next) {
		l->n++;
		bytes += patch_strings_size(p);
		nfuncs += p->m->func_count;
	}
	l->e = calloc(l->n + 1, sizeof(*l->e));
	funcs = calloc(nfuncs + 1, sizeof(*funcs));
	l->strings = malloc(bytes);
	if (!l->e || !funcs || !l->strings) {
		pthread_mutex_unlock(&state_lock);
		free(funcs);
		hp_list_free(l);
		return -ENOMEM;
	}
	cur = l->strings;
	for (struct hp_patch *p = patches; p; p = p->next, k++) {
		struct list_entry *e = &l->e[k];

		e->info = (struct hp_patch_info){
			.id = p->id,
			.name = put(&cur, p->name),
			.target = put(&cur, p->m->target_name),
			.description = put(&cur, p->m->description),
			.applied = p->applied,
			.func_count = p->m->func_count,
		};
		if (p->m->signer) {
			hp_pkg_key_id(p->m->signer, cur);
			e->signer = cur;
			cur += strlen(cur) + 1;
		} else {
			e->signer = put(&cur, "unsigned");
		}
		e->funcs = funcs + f;
		for (size_t j = 0; j < p->m->func_count; j++)
			funcs[f++] = put(&cur, p->m->funcs[j].name);
	}
	pthread_mutex_unlock(&state_lock);
	/* funcs is owned through the first entry. */
	if (l->n == 0)
		free(funcs);
	*out = l;
	return 0;
}

HP_EXPORT size_t hp_list_count(const struct hp_list *l)
{
	return l ? l->n : 0;
}

HP_EXPORT int hp_list_patch(const struct hp_list *l, size_t i, struct hp_patch_info *out)
{
	if (!l || i >= l->n || !out)
		return -EINVAL;
	*out = l->e[i].info;
	return 0;
}

HP_EXPORT const char *hp_list_signer(const struct hp_list *l, size_t i)
{
	return l && i < l->n ? l->e[i].signer : NULL;
}

HP_EXPORT const char *hp_list_func(const struct hp_list *l, size_t i, size_t j)
{
	if (!l || i >= l->n || j >= l->e[i].info.func_count)
		return NULL;
	return l->e[i].funcs[j];
}

HP_EXPORT void hp_list_free(struct hp_list *l)
{
	if (!l)
		return;
	if (l->n && l->e)
		free((void *)l->e[0].funcs);
	free(l->e);
	free(l->strings);
	free(l);
}
