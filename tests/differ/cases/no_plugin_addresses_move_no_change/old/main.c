//@ func main hash=0x11 flags=external calls=lib_a,lib_b
//@ func helper hash=0x22
int lib_a(int x);
int lib_b(int x);
static int __attribute__((noinline)) helper(int x) { return lib_a(x) * 3; }
int main(int argc, char **argv) { return helper(argc) + lib_b(argc); }
