//@ func main hash=0x11 flags=external calls=fast_add
int fast_add(int a, int b);
int main(int argc, char **argv) { return fast_add(argc, 2); }
