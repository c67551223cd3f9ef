/* Inline graph: one helper in two callers; nested a <- b <- c. */
static int helper(int x) { return x * 3 + 1; }
int caller1(int x) { return helper(x) + 1; }
int caller2(int x) { return helper(x) - 1; }

static int c(int x) { return x ^ 0x55; }
static int b(int x) { return c(x) + 2; }
int a(int x) { return b(x) * 2; }

/* inlined at one call site only: the other stays a call (needs -std=gnu2x) */
static int twice(int x) { return 2 * x; }
int partial(int x)
{
	int r = twice(x);
	[[clang::noinline]] r += twice(x + 1);
	return r;
}
