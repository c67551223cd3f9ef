//@ func main hash=0x2 flags=external inlined=twice
static inline int twice(int x) { return x * 3; }
int main(int argc, char **argv) { return twice(argc); }
