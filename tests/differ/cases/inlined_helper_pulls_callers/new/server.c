//@ func main hash=0x1 flags=external calls=dispatch
//@ func dispatch hash=0x2 flags=external calls=handle
//@ func handle hash=0x3 inlined=parse_key
//@ func outer hash=0x4 flags=external inlined=handle,parse_key
//@ func parse_key hash=0x55 flags=external
int parse_key(const char *s) { return s[0] == 'K'; }
static int __attribute__((noinline)) handle(const char *s) { return parse_key(s) + 1; }
int outer(const char *s) { return handle(s) * 2; }
int __attribute__((noinline)) dispatch(const char *s) { return handle(s); }
int main(int argc, char **argv) { return dispatch(argv[0]) + outer(argv[0]); }
