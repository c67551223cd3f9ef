//@ func main hash=0x11 flags=external calls=checksum
unsigned checksum(const char *s);
int main(int argc, char **argv) { return (int)checksum(argv[0]); }
