#include <stdio.h>
int __attribute__((noinline)) helper_b(int x);
static int __attribute__((noinline)) helper_a(int x) { return x + 1; }
int main(int argc, char **argv) { (void)argv; printf("%d\n", helper_a(argc) + helper_b(argc)); return 0; }
