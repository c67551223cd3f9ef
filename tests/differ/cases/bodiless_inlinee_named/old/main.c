//@ func main hash=0x1 flags=external inlined=twice
static inline int twice(int x) { return x * 2; }
int main(int argc, char **argv) { return twice(argc); }
