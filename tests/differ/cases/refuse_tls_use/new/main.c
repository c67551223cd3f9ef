//@ func main hash=0x2 flags=external vars=depth
//@ var depth size=4 flags=external,tls
__thread int depth;
int main(void) { return depth + 1; }
