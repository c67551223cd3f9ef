//@ func main hash=0x11 flags=external calls=fix,vend_op,vend_len,vend_kind
//@ func fix hash=0x23 calls=vend_emit
int vend_op(int op, int x);
int vend_len(int i);
int vend_kind(int k);
int vend_emit(const char *s);
/* the fix grows the function and adds literals: everything linked after
 * main.c moves in .text and in .rodata */
static int __attribute__((noinline)) fix(int x)
{
	int s = 0;
	for (int i = 0; i < x; i++)
		s += (i * i) ^ (s >> 3);
	if (s > 1000)
		s += vend_emit("the fix adds a literal");
	if (s > 5000)
		s += vend_emit("and another, longer literal that moves the others");
	return s + 1;
}
int main(int argc, char **argv)
{
	(void)argv;
	return fix(argc) + vend_op(argc, 3) + vend_len(argc) + vend_kind(argc);
}
