/* protocol.h — hpkv's line protocol: request parsing and reply building.
 * See PROTOCOL.md for the wire format. */
#ifndef HPKV_PROTOCOL_H
#define HPKV_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

/* Limits from PROTOCOL.md. A request line holds at most a verb, a maximal
 * key and a maximal value, plus a little slack for separators. */
#define HPKV_MAX_KEY 250
#define HPKV_MAX_VALUE 65536
#define HPKV_MAX_LINE (HPKV_MAX_VALUE + HPKV_MAX_KEY + 64)

/* One parsed request line. All pointers point into the caller's line buffer;
 * nothing is copied and nothing is NUL-terminated. */
struct request {
	const char *verb;
	size_t verb_len;
	const char *args; /* everything after the verb and its spaces */
	size_t args_len;
	const char *key; /* first word of args */
	size_t key_len;
	const char *rest; /* everything after the key and one space */
	size_t rest_len;
	bool has_rest;
};

/* A growing output buffer that replies are appended to. */
struct reply {
	char *buf;
	size_t len;
	size_t cap;
	bool failed; /* out of memory: the connection must be dropped */
};

/* Reply texts shared by several commands. Kept as named constants so a live
 * patch that changes one shows up as a changed string, not changed code. */
extern const char hpkv_err_unknown[];
extern const char hpkv_err_arity[];
extern const char hpkv_err_key_long[];
extern const char hpkv_err_key_bad[];
extern const char hpkv_err_value_long[];
extern const char hpkv_err_number[];
extern const char hpkv_err_not_int[];
extern const char hpkv_err_overflow[];
extern const char hpkv_err_line_long[];
extern const char hpkv_err_empty[];
extern const char hpkv_err_nomem[];

/* Splits @line (without its newline, @len bytes) into verb, key and rest.
 * Returns 0, or -1 if the line holds no verb at all. */
int proto_parse_line(const char *line, size_t len, struct request *req);

/* Parses a whole decimal signed 64-bit number from @s (@len bytes, no
 * surrounding spaces). Returns 0 and sets *@out, or -1 if @s is not exactly
 * one number in range. */
int proto_parse_int(const char *s, size_t len, long long *out);

/* Appends raw bytes. Every reply_* sets r->failed instead of failing. */
void reply_add(struct reply *r, const char *s, size_t len);
/* "<word>\n" — OK, NOTFOUND, PONG, BYE, ... */
void reply_word(struct reply *r, const char *word);
/* "VALUE <v>\n" */
void reply_value(struct reply *r, const char *v, size_t len);
/* "VALUE <n>\n" for a number. */
void reply_number(struct reply *r, int n);
/* "ERR <reason>\n"; also counts the error for STATS. */
void reply_err(struct reply *r, const char *reason);
/* Drops everything appended so far (used after a write consumed it). */
void reply_consume(struct reply *r, size_t n);
void reply_release(struct reply *r);

#endif
