/* workload.c — one connection's request mix and its reply model.
 *
 * Each connection owns the keys "hpload.<pid>.<conn>:<n>", so no other
 * client changes them and the model can predict every reply exactly. The
 * mix stays on the protocol's ordinary paths (SET/GET/DEL/INCR/APPEND and
 * EXISTS with short keys, small values and small increments), so replies do
 * not depend on the sample engine's deliberate bugs or on which of its
 * live patches are applied. */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define KEYS_PER_CONN 64
#define MAX_MODEL_VALUE 512 /* beyond this APPEND turns into SET */
#define REQ_TIMEOUT_MS 5000

struct model_key {
	bool present;
	size_t len;
	char value[MAX_MODEL_VALUE + 64];
};

struct session {
	const struct workload_config *cfg;
	struct workload_result *res;
	struct net_conn conn;
	uint64_t rng;
	char prefix[48];
	struct model_key keys[KEYS_PER_CONN];
	char req[1024];
	char expect[1024];
};

uint64_t workload_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast, and the same seed gives the same request stream. */
static uint64_t rnd(struct session *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ull;
}

static unsigned rnd_below(struct session *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static void rnd_text(struct session *s, char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz";

	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[rnd_below(s, 26)];
	out[len] = '\0';
}

/* The server's integer grammar for stored values: optional '-', digits,
 * within 64 bits. Our values are either such numbers or start with a
 * letter, so no edge case of the grammar is ever exercised. */
static bool model_int(const struct model_key *k, long long *out)
{
	char *end;

	if (k->len == 0 || !(k->value[0] == '-' || (k->value[0] >= '0' && k->value[0] <= '9')))
		return false;
	errno = 0;
	*out = strtoll(k->value, &end, 10);
	return errno == 0 && *end == '\0';
}

static void model_set(struct model_key *k, const char *v)
{
	k->present = true;
	k->len = strlen(v);
	memcpy(k->value, v, k->len + 1);
}

/* Builds one random request into s->req and its exact expected reply into
 * s->expect, updating the model as the server will. */
static void next_request(struct session *s, unsigned *key_out)
{
	unsigned ki = rnd_below(s, KEYS_PER_CONN), op = rnd_below(s, 100);
	struct model_key *k = &s->keys[ki];
	char key[64], text[80];
	long long cur = 0, by;

	*key_out = ki;
	snprintf(key, sizeof(key), "%s%u", s->prefix, ki);
	if (op >= 85 && op < 95 && k->present && k->len > MAX_MODEL_VALUE - 32)
		op = 40; /* keep values short: turn a long APPEND into a SET */

	if (op < 35) {
		snprintf(s->req, sizeof(s->req), "GET %s\n", key);
		if (k->present)
			snprintf(s->expect, sizeof(s->expect), "VALUE %s", k->value);
		else
			snprintf(s->expect, sizeof(s->expect), "NOTFOUND");
	} else if (op < 60) {
		/* Values start with 'v' so they never parse as integers. */
		text[0] = 'v';
		rnd_text(s, text + 1, 1 + rnd_below(s, 40));
		snprintf(s->req, sizeof(s->req), "SET %s %s\n", key, text);
		snprintf(s->expect, sizeof(s->expect), "OK");
		model_set(k, text);
	} else if (op < 70) {
		snprintf(s->req, sizeof(s->req), "DEL %s\n", key);
		snprintf(s->expect, sizeof(s->expect), k->present ? "OK" : "NOTFOUND");
		k->present = false;
	} else if (op < 85) {
		by = (long long)rnd_below(s, 2001) - 1000;
		if (rnd_below(s, 4) == 0) {
			by = 1;
			snprintf(s->req, sizeof(s->req), "INCR %s\n", key);
		} else {
			snprintf(s->req, sizeof(s->req), "INCR %s %lld\n", key, by);
		}
		if (k->present && !model_int(k, &cur)) {
			snprintf(s->expect, sizeof(s->expect), "ERR value is not an integer");
		} else {
			snprintf(text, sizeof(text), "%lld", cur + by);
			snprintf(s->expect, sizeof(s->expect), "VALUE %s", text);
			model_set(k, text);
		}
	} else if (op < 95) {
		rnd_text(s, text, 1 + rnd_below(s, 16));
		snprintf(s->req, sizeof(s->req), "APPEND %s %s\n", key, text);
		if (!k->present) {
			k->present = true;
			k->len = 0;
			k->value[0] = '\0';
		}
		strcat(k->value, text);
		k->len += strlen(text);
		snprintf(s->expect, sizeof(s->expect), "VALUE %zu", k->len);
	} else {
		snprintf(s->req, sizeof(s->req), "EXISTS %s\n", key);
		snprintf(s->expect, sizeof(s->expect), "VALUE %d", k->present ? 1 : 0);
	}
}

/* One request/reply round trip; returns the reply or NULL on I/O error. */
static const char *round_trip(struct session *s, const char *req)
{
	const char *line;
	long n;

	if (net_send(&s->conn, req, strlen(req)) != 0)
		return NULL;
	n = net_read_line(&s->conn, &line);
	return n < 0 ? NULL : line;
}

/* Deletes @ki on the server and forgets it, so a key whose state we no
 * longer know (after a wrong reply) cannot cause a cascade of mismatches. */
static bool resync_key(struct session *s, unsigned ki)
{
	char req[96];
	const char *reply;

	snprintf(req, sizeof(req), "DEL %s%u\n", s->prefix, ki);
	reply = round_trip(s, req);
	s->keys[ki].present = false;
	return reply && (strcmp(reply, "OK") == 0 || strcmp(reply, "NOTFOUND") == 0);
}

static bool resync_all(struct session *s)
{
	for (unsigned i = 0; i < KEYS_PER_CONN; i++)
		if (!resync_key(s, i))
			return false;
	return true;
}

static void report(struct session *s, const char *what, const char *got)
{
	size_t reqlen = strlen(s->req);

	if (s->cfg->verbose_mismatches <= 0)
		return;
	if (s->res->errors + s->res->mismatches > (uint64_t)s->cfg->verbose_mismatches)
		return;
	fprintf(stderr, "hpload: conn %u: %s: request '%.*s' expected '%.200s' got '%.200s'\n",
		s->cfg->id, what, (int)(reqlen ? reqlen - 1 : 0), s->req, s->expect,
		got ? got : "(no reply)");
}

static atomic_int stop_requested;

void workload_request_stop(void)
{
	atomic_store_explicit(&stop_requested, 1, memory_order_relaxed);
}

static void run_requests(struct session *s)
{
	struct workload_result *res = s->res;

	while ((s->cfg->max_requests == 0 || res->requests < s->cfg->max_requests) &&
	       workload_now_ns() < s->cfg->deadline_ns &&
	       !atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
		unsigned ki;
		uint64_t t0, t1;
		const char *got;

		next_request(s, &ki);
		t0 = workload_now_ns();
		got = round_trip(s, s->req);
		t1 = workload_now_ns();
		res->requests++;
		if (!got) {
			res->errors++;
			report(s, "i/o error", NULL);
			return;
		}
		latency_add(&res->lat, (t1 - t0) / 1000);
		if (strcmp(got, s->expect) == 0)
			continue;
		if (strncmp(got, "ERR", 3) == 0) {
			res->errors++;
			report(s, "unexpected error", got);
		} else {
			res->mismatches++;
			report(s, "mismatch", got);
		}
		if (!resync_key(s, ki)) {
			res->errors++;
			return;
		}
	}
}

void workload_run(const struct workload_config *cfg, struct workload_result *res)
{
	struct session *s = calloc(1, sizeof(*s));
	int err;

	memset(res, 0, sizeof(*res));
	if (!s) {
		res->errors++;
		return;
	}
	s->cfg = cfg;
	s->res = res;
	s->rng = (cfg->seed ^ (0x9e3779b97f4a7c15ull * (cfg->id + 1))) | 1;
	snprintf(s->prefix, sizeof(s->prefix), "hpload.%ld.%u:", (long)getpid(), cfg->id);
	err = net_connect(&s->conn, cfg->port, REQ_TIMEOUT_MS);
	if (err) {
		if (cfg->verbose_mismatches > 0)
			fprintf(stderr, "hpload: conn %u: cannot connect to 127.0.0.1:%u: %s\n",
				cfg->id, cfg->port, strerror(-err));
		res->errors++;
		free(s);
		return;
	}
	/* Start from a known state, and leave none of our keys behind. */
	if (!resync_all(s))
		res->errors++;
	else
		run_requests(s);
	if (res->errors == 0 && !resync_all(s))
		res->errors++;
	net_close(&s->conn);
	free(s);
}
