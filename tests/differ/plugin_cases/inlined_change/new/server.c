#include <stdio.h>
static int counter;
static inline int parse_key(const char *s) { return s[0] == 'K'; }
static int __attribute__((noinline)) handle(const char *s) { counter++; return parse_key(s) + counter; }
static int __attribute__((noinline)) other(int x) { return x * 3; }
int main(int argc, char **argv) { printf("%d %d\n", handle(argv[0]), other(argc)); return 0; }
