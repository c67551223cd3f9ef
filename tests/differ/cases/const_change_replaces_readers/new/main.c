//@ func show hash=0x10 flags=external,patchable vars=banner
//@ func main hash=0x20 flags=external,patchable inlined=show
//@ func other hash=0x30 flags=external,patchable
//@ var banner size=11 init=0x101 flags=const
static const char banner[] = "hpkv 1.0.1";
const char *__attribute__((noinline)) show(void) { return banner; }
int other(void) { return 3; }
int main(void) { return show()[0] + other(); }
