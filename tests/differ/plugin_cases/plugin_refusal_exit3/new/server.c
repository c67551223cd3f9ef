#include <stdio.h>
int __attribute__((noinline)) a(int x) { return x + 1; }
/* new, named by the source: its initial value names the old a() */
int (*hooks[])(int) = { a };
int __attribute__((noinline)) run(int x) { return hooks[x & 0](x) * 3; }
int main(int argc, char **argv) { (void)argv; printf("%d\n", run(argc)); return 0; }
