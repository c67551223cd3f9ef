/* The two renamings DESIGN.md measured with plain clang-19 -O2:
 * hist[4] with only hist[2] used became "hist.0", and bump() whose result
 * is unused became "fastcc void bump()". */
static long hist[4];

__attribute__((noinline)) static int bump(int by)
{
	hist[2] += by;
	return (int)hist[2];
}

int record(int v)
{
	bump(v);
	return 0;
}

int counter(void)
{
	static int calls;
	return ++calls;
}
