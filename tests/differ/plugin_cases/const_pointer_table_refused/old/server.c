#include <stdio.h>
typedef int (*fn)(int);
static int __attribute__((noinline)) a(int x) { return x + 1; }
static int __attribute__((noinline)) b(int x) { return x * 2; }
static const fn table[] = { a, b };
int __attribute__((noinline)) run(int i, int x) { return table[i & 1](x); }
int main(int argc, char **argv) { (void)argv; printf("%d\n", run(argc, 5)); return 0; }
