//@ func main hash=0x2 flags=external vars=limit
//@ var limit size=4 init=0x200 flags=external
int limit = 200;
int main(void) { return limit; }
