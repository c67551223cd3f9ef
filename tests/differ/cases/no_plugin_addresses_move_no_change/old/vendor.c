/* built without the plugin: no metadata */
static int counter;
static const char table[] = "abcdefghijklmnopqrstuvwxyz";
static int __attribute__((noinline)) lib_c(int x) { return table[x & 15] + counter++; }
int __attribute__((noinline)) lib_a(int x) { return lib_c(x) + 1; }
int __attribute__((noinline)) lib_b(int x) { return lib_a(x) + lib_c(x + 1); }
