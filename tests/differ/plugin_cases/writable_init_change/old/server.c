#include <stdio.h>
static char banner[] = "hpkv 1.0";
static void __attribute__((noinline)) greet(void) { puts(banner); }
int main(void) { greet(); banner[0] = 'H'; greet(); return 0; }
