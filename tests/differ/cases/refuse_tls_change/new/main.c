//@ func main hash=0x2 flags=external vars=depth
//@ var depth size=8 flags=external,tls
__thread long depth;
int main(void) { return depth; }
