struct conn { int state; int fd; long bytes; };
struct conn conns[4];
int __attribute__((noinline)) bump(int i) { conns[i].bytes++; return conns[i].state; }
int main(int argc, char **argv) { (void)argv; return bump(argc & 3); }
