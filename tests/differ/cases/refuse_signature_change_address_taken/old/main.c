//@ func main hash=0x1 flags=external calls=scale,report
//@ func report hash=0x4 flags=external calls=scale
//@ func scale hash=0x2 flags=external,address_taken
int __attribute__((noinline)) scale(int x) { return x * 2; }
int (*volatile scale_ptr)(int) = scale;
int __attribute__((noinline)) report(int x) { return scale(x) + 1; }
int main(int argc, char **argv) { return scale(argc) + report(argc) + scale_ptr(1); }
