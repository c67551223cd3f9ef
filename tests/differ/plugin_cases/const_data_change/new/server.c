#include <stdio.h>
static const char version_text[] = "hpkv 1.0.1";
static int counter;
const char *__attribute__((noinline)) cmd_version(void) { return version_text; }
static int __attribute__((noinline)) cmd_count(int x) { counter += x; return counter; }
int main(int argc, char **argv) { (void)argv; printf("%s %d\n", cmd_version(), cmd_count(argc)); return 0; }
