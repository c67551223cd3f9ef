/* A fix that needs patch hooks. fill_table() ran once at start and filled
 * the table wrong (i * 10; the fix: i * 100): replacing it changes nothing
 * in a running program, so the fix re-runs it from a post-apply hook, and
 * a post-revert hook puts the old values back. A pre-apply hook refuses
 * the apply while HP_TEST_NOT_READY is set in the program's environment;
 * with HP_TEST_POST_FAIL the post-apply hook fails after filling, and with
 * HP_TEST_KEEP a pre-revert hook refuses the revert; with
 * HP_TEST_RESTORE_FAIL the post-revert hook fails after restoring. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef FIXED
#include <hotpatch/hotpatch.h>
#endif

int table[8];

__attribute__((noinline)) void fill_table(void)
{
	for (int i = 0; i < 8; i++)
#ifdef FIXED
		table[i] = i * 100;
#else
		table[i] = i * 10;
#endif
}

#ifdef FIXED
static int check_ready(char *msg, size_t len)
{
	if (!getenv("HP_TEST_NOT_READY"))
		return 0;
	snprintf(msg, len, "the table is in use");
	return 1;
}
HOTPATCH_PRE_APPLY(check_ready);

static int refill(char *msg, size_t len)
{
	fill_table();
	if (!getenv("HP_TEST_POST_FAIL"))
		return 0;
	snprintf(msg, len, "refilled, but asked to fail");
	return 2;
}
HOTPATCH_POST_APPLY(refill);

static int restore(char *msg, size_t len)
{
	for (int i = 0; i < 8; i++)
		table[i] = i * 10;
	if (!getenv("HP_TEST_RESTORE_FAIL"))
		return 0;
	snprintf(msg, len, "restored, but asked to fail");
	return 4;
}
HOTPATCH_POST_REVERT(restore);

static int may_revert(char *msg, size_t len)
{
	if (!getenv("HP_TEST_KEEP"))
		return 0;
	snprintf(msg, len, "keep it");
	return 3;
}
HOTPATCH_PRE_REVERT(may_revert);
#endif

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fill_table();
	for (unsigned round = 0;; round++) {
		printf("R %u table[3]=%d\n", round, table[3]);
		usleep(20000);
	}
}
