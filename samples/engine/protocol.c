/* protocol.c — request-line parser and reply buffer. */
#include "protocol.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char hpkv_err_unknown[] = "unknown command";
const char hpkv_err_arity[] = "wrong number of arguments";
const char hpkv_err_key_long[] = "key too long";
const char hpkv_err_key_bad[] = "bad key";
const char hpkv_err_value_long[] = "value too long";
const char hpkv_err_number[] = "not a number";
const char hpkv_err_not_int[] = "value is not an integer";
const char hpkv_err_overflow[] = "overflow";
const char hpkv_err_line_long[] = "line too long";
const char hpkv_err_empty[] = "empty request";
const char hpkv_err_nomem[] = "out of memory";

static size_t skip_spaces(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

static size_t word_end(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

int proto_parse_line(const char *line, size_t len, struct request *req)
{
	size_t i, end;

	memset(req, 0, sizeof(*req));
	i = skip_spaces(line, 0, len);
	end = word_end(line, i, len);
	if (end == i)
		return -1;
	req->verb = line + i;
	req->verb_len = end - i;

	i = skip_spaces(line, end, len);
	req->args = line + i;
	req->args_len = len - i;

	end = word_end(line, i, len);
	req->key = line + i;
	req->key_len = end - i;
	/* The value is everything after exactly one space, so values may
	 * themselves hold (and start with) spaces. */
	if (end < len) {
		req->has_rest = true;
		req->rest = line + end + 1;
		req->rest_len = len - end - 1;
	}
	return 0;
}

int proto_parse_int(const char *s, size_t len, long long *out)
{
	unsigned long long limit = (unsigned long long)LLONG_MAX, acc = 0;
	bool neg = false;
	size_t i = 0;

	if (len > 0 && s[0] == '-') {
		neg = true;
		limit += 1; /* |LLONG_MIN| */
		i = 1;
	}
	if (i == len)
		return -1;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -1;
		if (acc > (limit - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	/* Negate in unsigned arithmetic: -(LLONG_MIN) does not fit. */
	*out = neg ? (long long)(0 - acc) : (long long)acc;
	return 0;
}

static void reply_reserve(struct reply *r, size_t more)
{
	size_t cap;
	char *buf;

	if (r->failed || r->len + more <= r->cap)
		return;
	cap = r->cap ? r->cap : 256;
	while (cap < r->len + more)
		cap *= 2;
	buf = realloc(r->buf, cap);
	if (!buf) {
		r->failed = true;
		return;
	}
	r->buf = buf;
	r->cap = cap;
}

void reply_add(struct reply *r, const char *s, size_t len)
{
	reply_reserve(r, len);
	if (r->failed)
		return;
	memcpy(r->buf + r->len, s, len);
	r->len += len;
}

void reply_word(struct reply *r, const char *word)
{
	reply_add(r, word, strlen(word));
	reply_add(r, "\n", 1);
}

void reply_value(struct reply *r, const char *v, size_t len)
{
	reply_add(r, "VALUE ", 6);
	reply_add(r, v, len);
	reply_add(r, "\n", 1);
}

void reply_number(struct reply *r, int n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "VALUE %d\n", n);

	reply_add(r, buf, (size_t)len);
}

void reply_err(struct reply *r, const char *reason)
{
	stats_count_error();
	reply_add(r, "ERR ", 4);
	reply_add(r, reason, strlen(reason));
	reply_add(r, "\n", 1);
}

void reply_consume(struct reply *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

void reply_release(struct reply *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
