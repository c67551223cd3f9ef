//@ func main hash=0x1 flags=external calls=scale,report
//@ func report hash=0x4 flags=external calls=scale
//@ func scale hash=0x3 flags=external
int __attribute__((noinline)) scale(unsigned x) { return (int)x * 3; }
int __attribute__((noinline)) report(int x) { return scale(x) + 1; }
int main(int argc, char **argv) { return scale(argc) + report(argc); }
