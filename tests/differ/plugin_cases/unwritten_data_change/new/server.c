#include <stdio.h>
#include <string.h>
/* Writable, but no code writes it: only copied out. */
static char page[] = "Server: hpkv/1.1\r\n";
static char hits[] = "hits: 0\r\n"; /* written below: refused if it changed */
static size_t __attribute__((noinline)) show(char *out)
{
	memcpy(out, page, sizeof(page));
	return sizeof(page) - 1;
}
int main(void)
{
	char buf[64];
	fwrite(buf, 1, show(buf), stdout);
	hits[6] = '1';
	fputs(hits, stdout);
	return 0;
}
