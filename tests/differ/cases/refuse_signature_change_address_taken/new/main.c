//@ func main hash=0x5 flags=external calls=scale,report
//@ func report hash=0x6 flags=external calls=scale
//@ func scale hash=0x3 flags=external,address_taken
int __attribute__((noinline)) scale(long x) { return (int)x * 3; }
int (*volatile scale_ptr)(long) = scale;
int __attribute__((noinline)) report(int x) { return scale(x) + 1; }
int main(int argc, char **argv) { return scale(argc) + report(argc) + scale_ptr(1); }
