/* A TU recompiled in patch mode with patch.spec. */
#include <stdio.h>

int counter;                                /* old-var */
static long hist[4];                        /* old-var */
static int helper(int x) { return x + 1; } /* old-func: dropped */

int fixed(int x) /* keep + old-func */
{
	static int calls; /* old-var fixed.calls */

	calls++;
	hist[1] += x;
	counter++;
	return helper(x) * 2 + calls;
}

__attribute__((noinline)) int unchanged(int x) { return x - 1; } /* old-func: dropped */

int (*get(void))(int) { return unchanged; } /* keep: address of an old function */

int newfn(int x) { return x * 5; } /* new */

const char *msg(void) { return "a new string literal"; } /* new */

int user(int x) { return fixed(x) + newfn(x) + unchanged(x) + puts(msg()); } /* keep */
