#include <stdio.h>
int __attribute__((noinline)) a(int x) { return x + 1; }
int __attribute__((noinline)) run(int x) { return a(x) * 2; }
int main(int argc, char **argv) { (void)argv; printf("%d\n", run(argc)); return 0; }
