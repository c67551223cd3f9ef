//@ func show hash=0x10 flags=external,patchable vars=banner
//@ func main hash=0x20 flags=external,patchable inlined=show
//@ func other hash=0x30 flags=external,patchable
//@ var banner size=9 init=0x100 flags=const
static const char banner[] = "hpkv 1.0";
const char *__attribute__((noinline)) show(void) { return banner; }
int other(void) { return 3; }
int main(void) { return show()[0] + other(); }
