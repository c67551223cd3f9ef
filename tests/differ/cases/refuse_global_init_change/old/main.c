//@ func main hash=0x1 flags=external vars=limit
//@ var limit size=4 init=0x100 flags=external
int limit = 100;
int main(void) { return limit; }
