//@ func main hash=0x1 flags=external calls=scale.constprop.3
//@ func scale.constprop.3 addr=scale hash=0x9 flags=clone origin=scale
//@ func tick.llvm.987 addr=tick hash=0x7
static int __attribute__((noinline)) scale(int x) { return x * 7; }
static int __attribute__((noinline)) tick(int x) { return x + 1; }
int main(int argc, char **argv) { return scale(argc) + tick(argc); }
