/* A writable array that no code writes (only copied out), changed by the
 * fix (-DFIXED): the patch carries the new text and replaces its reader. A
 * loop that never returns prints one line per round: "R ROUND TEXT". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef FIXED
static char banner[] = "Server: hpkv/1.0";
#else
static char banner[] = "Server: hpkv/1.1"; /* same size */
#endif

__attribute__((noinline)) static size_t copy_banner(char *out, size_t size)
{
	size_t n = sizeof(banner) < size ? sizeof(banner) : size;

	memcpy(out, banner, n);
	out[n - 1] = 0;
	return n - 1;
}

int main(void)
{
	char line[64];

	for (long round = 0;; round++) {
		copy_banner(line, sizeof(line));
		printf("R %ld %s\n", round, line);
		fflush(stdout);
		usleep(2000);
	}
}
