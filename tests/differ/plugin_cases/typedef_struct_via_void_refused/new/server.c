/* nginx's shape: an anonymous struct known by its typedef, embedded in a
 * module context that requests keep in a void *ctx[] array. The fix adds a
 * field in the middle; every user is replaced, yet contexts of running
 * requests have the old layout: refused. */
#include <stdio.h>
#include <stdlib.h>

typedef struct {
	int code;
	char *line_start; /* the fix */
	char *start;
} status_t;

typedef struct {
	status_t status;
	int state;
} proxy_ctx_t;

void *ctx_slots[4];

__attribute__((noinline)) int parse_status(status_t *st, const char *line)
{
	st->code = atoi(line);
	return st->code >= 100 ? 0 : -1;
}

__attribute__((noinline)) int process_status(int module)
{
	proxy_ctx_t *ctx = ctx_slots[module];
	ctx->state++;
	return parse_status(&ctx->status, "200 OK");
}

int main(void)
{
	ctx_slots[1] = calloc(1, sizeof(proxy_ctx_t));
	printf("%d\n", process_status(1));
	return 0;
}
