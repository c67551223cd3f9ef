//@ func main hash=0x11 flags=external calls=helper
//@ func helper hash=0x22
static int __attribute__((noinline)) helper(int x) { return x * 3; }
int main(int argc, char **argv) { return helper(argc); }
