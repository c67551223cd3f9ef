//@ func main hash=0x11 flags=external calls=fix,vend_op,vend_len,vend_kind
//@ func fix hash=0x22
int vend_op(int op, int x);
int vend_len(int i);
int vend_kind(int k);
int vend_emit(const char *s);
static int __attribute__((noinline)) fix(int x) { return x + 1; }
int main(int argc, char **argv)
{
	(void)argv;
	return fix(argc) + vend_op(argc, 3) + vend_len(argc) + vend_kind(argc);
}
