#include <stdio.h>
#include <string.h>
static int counter;
/* The fix grows it past inlining: NEW's handle() calls it, only OLD's
 * handle() names it as inlined, and it is a new function (OLD had no body). */
static int __attribute__((noinline)) parse_key(const char *s) { return s[0] == 'k' && strlen(s) < 250; }
static int __attribute__((noinline)) handle(const char *s) { counter++; return parse_key(s) + counter; }
static int __attribute__((noinline)) other(int x) { return x * 3; }
int main(int argc, char **argv) { printf("%d %d\n", handle(argv[0]), other(argc)); return 0; }
