/* Interprocedural assumptions the plugin must switch off. */
int gv;

/* -fipa-ra: caller() would keep t in a register leaf() is known not to
 * clobber; a replacement leaf() may clobber it. */
__attribute__((noinline)) static int leaf(int x) { return x + 1; }
int caller(int a, int b)
{
	int t = a * b;
	int r = leaf(a);
	return r + t;
}

/* -fipa-icf: identical bodies would be folded into one. */
int twin1(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * 3 + gv; return s; }
int twin2(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * 3 + gv; return s; }

/* -fipa-pure-const: reader() would be found pure and calls to it CSE'd
 * or dropped. */
__attribute__((noinline)) static int reader(void) { return gv; }
int twice(void) { return reader() + reader(); }

/* IPA-SRA: unused parameter would be dropped (signature change). */
__attribute__((noinline)) static int unused_arg(int a, int b) { return a * 2; }
int call_unused(int x) { return unused_arg(x, x + 1); }

/* A static nobody uses: pinned, so a patch can start using it. */
static int unused_state = 17;
