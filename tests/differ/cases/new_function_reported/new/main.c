//@ func main hash=0x12 flags=external calls=helper,extra
//@ func helper hash=0x22
//@ func extra hash=0x33
static int __attribute__((noinline)) helper(int x) { return x * 3; }
static int __attribute__((noinline)) extra(int x) { return x - 1; }
int main(int argc, char **argv) { return helper(argc) + extra(argc); }
