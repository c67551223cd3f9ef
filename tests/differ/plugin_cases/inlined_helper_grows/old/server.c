#include <stdio.h>
#include <string.h>
static int counter;
/* Small: inlined into handle(), no body of its own. */
static int parse_key(const char *s) { return s[0] == 'k'; }
static int __attribute__((noinline)) handle(const char *s) { counter++; return parse_key(s) + counter; }
static int __attribute__((noinline)) other(int x) { return x * 3; }
int main(int argc, char **argv) { printf("%d %d\n", handle(argv[0]), other(argc)); return 0; }
