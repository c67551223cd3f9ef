/* built without the plugin: no metadata; an unused function inserted
 * first moves every other one */
static int counter;
static const char table[] = "abcdefghijklmnopqrstuvwxyz";
int __attribute__((noinline)) lib_unused(int x) { return x * 7 + 5; }
static int __attribute__((noinline)) lib_c(int x) { return table[x & 15] + counter++; }
int __attribute__((noinline)) lib_a(int x) { return lib_c(x) + 1; }
int __attribute__((noinline)) lib_b(int x) { return lib_a(x) + lib_c(x + 1); }
