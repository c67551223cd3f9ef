//@ tu hash_rules=1
//@ func main hash=0x11 flags=external calls=helper
//@ func helper hash=0x23
static int __attribute__((noinline)) helper(int x) { return x * 4; }
int main(int argc, char **argv) { return helper(argc); }
