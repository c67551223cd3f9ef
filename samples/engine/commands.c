/* commands.c — one handler per command, found through a table of function
 * pointers. Handlers validate their own arguments so the key checks below
 * are inlined into each of them. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "stats.h"
#include "store.h"

/* What the dispatcher checks before a handler runs. */
enum arity {
	ARGS_NONE,	/* VERB */
	ARGS_KEY,	/* VERB key */
	ARGS_KEY_VALUE, /* VERB key value... */
	ARGS_KEY_OPT,	/* VERB key [word] */
	ARGS_TEXT,	/* VERB text... */
	ARGS_OPT_TEXT,	/* VERB [text...] */
};

typedef void (*cmd_fn)(struct session *s, const struct request *req, struct reply *r);

struct command {
	const char *name;
	enum arity arity;
	cmd_fn fn;
};

static const char version_text[] = "hpkv 1.0";

/* NULL when @key is acceptable, else the reason for the ERR reply. */
static inline const char *key_problem(const char *key, size_t len)
{
	if (len > HPKV_MAX_KEY + 1)
		return hpkv_err_key_long;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c <= ' ' || c > '~')
			return hpkv_err_key_bad;
	}
	return NULL;
}

static inline bool check_key(const struct request *req, struct reply *r)
{
	const char *problem = key_problem(req->key, req->key_len);

	if (problem)
		reply_err(r, problem);
	return problem == NULL;
}

static inline bool check_value(size_t len, struct reply *r)
{
	if (len <= HPKV_MAX_VALUE)
		return true;
	reply_err(r, hpkv_err_value_long);
	return false;
}

static void reply_store_error(struct reply *r, int err)
{
	switch (err) {
	case STORE_NOTFOUND:
		reply_word(r, "NOTFOUND");
		break;
	case STORE_NOT_INT:
		reply_err(r, hpkv_err_not_int);
		break;
	case STORE_OVERFLOW:
		reply_err(r, hpkv_err_overflow);
		break;
	case STORE_TOO_LONG:
		reply_err(r, hpkv_err_value_long);
		break;
	default:
		reply_err(r, hpkv_err_nomem);
		break;
	}
}

static void copy_value(void *arg, const char *value, size_t len)
{
	reply_value(arg, value, len);
}

static void note_len(void *arg, const char *value, size_t len)
{
	*(size_t *)arg = len;
}

/* GET, EXISTS and STRLEN differ only in what they report about one key.
 * reply_lookup stays out of line on purpose: then the optimiser specialises
 * it for the values its callers pass (clang-19 -O2 drops the LOOKUP_LEN
 * case while no caller passes it), which is the interprocedural case live
 * patches must get right (samples/patches/08). */
enum lookup_kind {
	LOOKUP_VALUE,
	LOOKUP_EXISTS,
	LOOKUP_LEN,
};

__attribute__((noinline)) static void reply_lookup(struct session *s, const struct request *req,
						   struct reply *r, enum lookup_kind kind)
{
	size_t len = 0;
	int ret;

	switch (kind) {
	case LOOKUP_VALUE:
		ret = store_get(s->store, req->key, req->key_len, copy_value, r);
		if (ret)
			reply_word(r, "NOTFOUND");
		break;
	case LOOKUP_EXISTS:
		ret = store_get(s->store, req->key, req->key_len, note_len, &len);
		reply_number(r, ret == 0);
		break;
	case LOOKUP_LEN:
		ret = store_get(s->store, req->key, req->key_len, note_len, &len);
		reply_number(r, ret == 0 ? (int)len : 0);
		break;
	}
}

static void cmd_get(struct session *s, const struct request *req, struct reply *r)
{
	if (check_key(req, r))
		reply_lookup(s, req, r, LOOKUP_VALUE);
}

static void cmd_exists(struct session *s, const struct request *req, struct reply *r)
{
	if (check_key(req, r))
		reply_lookup(s, req, r, LOOKUP_EXISTS);
}

static void cmd_strlen(struct session *s, const struct request *req, struct reply *r)
{
	if (check_key(req, r))
		reply_lookup(s, req, r, LOOKUP_VALUE);
}

static void cmd_set(struct session *s, const struct request *req, struct reply *r)
{
	int ret;

	if (!check_key(req, r) || !check_value(req->rest_len, r))
		return;
	ret = store_set(s->store, req->key, req->key_len, req->rest, req->rest_len);
	if (ret)
		reply_store_error(r, ret);
	else
		reply_word(r, "OK");
}

static void cmd_del(struct session *s, const struct request *req, struct reply *r)
{
	int ret;

	if (!check_key(req, r))
		return;
	ret = store_del(s->store, req->key, req->key_len);
	if (ret)
		reply_store_error(r, ret);
	else
		reply_word(r, "OK");
}

static void cmd_incr(struct session *s, const struct request *req, struct reply *r)
{
	long long by = 1, result;
	int ret;

	if (!check_key(req, r))
		return;
	if (req->has_rest && proto_parse_int(req->rest, req->rest_len, &by) != 0) {
		reply_err(r, hpkv_err_number);
		return;
	}
	ret = store_incr(s->store, req->key, req->key_len, by, &result);
	if (ret)
		reply_store_error(r, ret);
	else
		reply_number(r, result);
}

static void cmd_append(struct session *s, const struct request *req, struct reply *r)
{
	size_t newlen;
	int ret;

	if (!check_key(req, r) || !check_value(req->rest_len, r))
		return;
	ret = store_append(s->store, req->key, req->key_len, req->rest, req->rest_len, &newlen);
	if (ret)
		reply_store_error(r, ret);
	else
		reply_number(r, (int)newlen);
}

static void cmd_ping(struct session *s, const struct request *req, struct reply *r)
{
	reply_word(r, "PONG");
}

static void cmd_echo(struct session *s, const struct request *req, struct reply *r)
{
	reply_value(r, req->args, req->args_len);
}

static void cmd_version(struct session *s, const struct request *req, struct reply *r)
{
	reply_add(r, "VERSION ", 8);
	reply_word(r, version_text);
}

static void cmd_stats(struct session *s, const struct request *req, struct reply *r)
{
	char buf[256];
	size_t len = stats_format(buf, sizeof(buf), store_count(s->store));

	reply_add(r, "STATS ", 6);
	reply_add(r, buf, len);
	reply_add(r, "\n", 1);
}

static void cmd_health(struct session *s, const struct request *req, struct reply *r)
{
	reply_add(r, "OK ", 3);
	reply_word(r, stats_health());
}

/* Process-wide ticket numbers, starting at 1. The counter is a static
 * local so that only this function can hand tickets out. */
static unsigned long next_ticket(void)
{
	static unsigned long ticket;

	return __atomic_fetch_add(&ticket, 1, __ATOMIC_RELAXED);
}

static void cmd_ticket(struct session *s, const struct request *req, struct reply *r)
{
	reply_number(r, (int)next_ticket());
}

static void cmd_help(struct session *s, const struct request *req, struct reply *r);

static void cmd_quit(struct session *s, const struct request *req, struct reply *r)
{
	s->quit = true;
	reply_word(r, "BYE");
}

static const struct command command_table[] = {
	{"GET", ARGS_KEY, cmd_get},
	{"SET", ARGS_KEY_VALUE, cmd_set},
	{"DEL", ARGS_KEY, cmd_del},
	{"INCR", ARGS_KEY_OPT, cmd_incr},
	{"APPEND", ARGS_KEY_VALUE, cmd_append},
	{"EXISTS", ARGS_KEY, cmd_exists},
	{"STRLEN", ARGS_KEY, cmd_strlen},
	{"PING", ARGS_OPT_TEXT, cmd_ping},
	{"ECHO", ARGS_TEXT, cmd_echo},
	{"VERSION", ARGS_NONE, cmd_version},
	{"STATS", ARGS_NONE, cmd_stats},
	{"HEALTH", ARGS_NONE, cmd_health},
	{"TICKET", ARGS_NONE, cmd_ticket},
	{"HELP", ARGS_NONE, cmd_help},
	{"QUIT", ARGS_NONE, cmd_quit},
};

#define COMMAND_COUNT (sizeof(command_table) / sizeof(command_table[0]))

static void cmd_help(struct session *s, const struct request *req, struct reply *r)
{
	reply_add(r, "VALUE", 5);
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		reply_add(r, " ", 1);
		reply_add(r, command_table[i].name, strlen(command_table[i].name));
	}
	reply_add(r, "\n", 1);
}

static const struct command *find_command(const char *verb, size_t len)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		const char *name = command_table[i].name;

		if (strlen(name) == len && memcmp(name, verb, len) == 0)
			return &command_table[i];
	}
	return NULL;
}

static bool arity_ok(enum arity arity, const struct request *req)
{
	switch (arity) {
	case ARGS_NONE:
		return req->args_len == 0;
	case ARGS_KEY:
		return req->key_len > 0 && !req->has_rest;
	case ARGS_KEY_VALUE:
		return req->key_len > 0 && req->has_rest && req->rest_len > 0;
	case ARGS_KEY_OPT:
		return req->key_len > 0;
	case ARGS_TEXT:
		return req->args_len > 0;
	case ARGS_OPT_TEXT:
		return true;
	}
	return false;
}

void cmd_dispatch(struct session *s, const struct request *req, struct reply *r)
{
	const struct command *cmd;

	stats_count_request();
	cmd = find_command(req->verb, req->verb_len);
	if (!cmd)
		reply_err(r, hpkv_err_unknown);
	else if (!arity_ok(cmd->arity, req))
		reply_err(r, hpkv_err_arity);
	else
		cmd->fn(s, req, r);
}
