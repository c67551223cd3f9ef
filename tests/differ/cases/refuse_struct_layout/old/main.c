//@ func main hash=0x1 flags=external calls=bump
//@ func bump hash=0x2 flags=external vars=conns
//@ var conns size=64 flags=external
struct conn { int fd; int state; long bytes; };
struct conn conns[4];
int __attribute__((noinline)) bump(int i) { conns[i].bytes++; return conns[i].state; }
int main(int argc, char **argv) { return bump(argc & 3); }
