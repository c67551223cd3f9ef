//@ func main hash=0x11 flags=external calls=work,report
//@ func work hash=0x22 flags=external
#include <stdio.h>

void report(const char *what);

int __attribute__((noinline)) work(int n) { return n * 3; }

int main(int argc, char **argv)
{
	report(argv[0]);
	return work(argc);
}
