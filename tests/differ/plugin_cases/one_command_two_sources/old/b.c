int __attribute__((noinline)) helper_b(int x) { return x * 2; }
