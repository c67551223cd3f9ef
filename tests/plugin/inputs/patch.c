/* A TU recompiled in patch mode with the spec test_patch.sh writes:
 * fixed, get, user, pick and fail_fast changed; the rest is in the old
 * image. */
#include <stdio.h>
#include <stdlib.h>

int counter;                               /* old-var */
static long hist[4];                       /* old-var */
static struct { int a[4]; long b; } tbl;   /* old-var */
extern int elsewhere;                      /* old-var, another TU's */
static int helper(int x) { return x + 1; } /* old-func: dropped (inlined at -O2) */

int fixed(int x) /* keep + old-func */
{
	static int calls; /* old-var: the old image holds the count */

	calls++;
	hist[1] += x;
	counter++;
	tbl.b += elsewhere;
	return helper(x) * 2 + calls;
}

__attribute__((noinline)) int unchanged(int x) { return x - 1; } /* old-func: dropped */

__attribute__((noinline, noreturn)) void die(const char *why) /* old-func: dropped */
{
	fprintf(stderr, "%s\n", why);
	exit(2);
}

int (*get(void))(int) { return unchanged; } /* keep: address of an old function */

int *pick(int c) { return c > 0 ? &tbl.a[c & 3] : &counter; } /* keep: addresses in a PHI */

int fail_fast(int x) /* keep: calls a noreturn old function */
{
	if (x < 0)
		die("negative");
	return tbl.a[x & 3] + (int)hist[x & 3];
}

int newfn(int x) { return x * 5; } /* new */

const char *msg(void) { return "a new string literal"; } /* new */

int user(int x) { return fixed(x) + newfn(x) + unchanged(x) + puts(msg()) + *pick(x); } /* keep */
