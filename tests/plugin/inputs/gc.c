/* Things GCC frees while the plugin could still hold them (test_gc.sh):
 * declarations GCC stops referring to before the end of the unit. */
extern int ext(int);
extern volatile int sink;

static inline int small(int v)
{
	return v * 3 + 1;
}

/* A nested function (GNU C), with small() inlined into it early, then
 * inlined into outer() itself: once outer() is compiled, nothing keeps
 * inner's decl or its name "inner.N"; the functions after it still look
 * up what was inlined into each function by name. */
int outer(int x)
{
	int inner(int y)
	{
		return small(y) + x + ext(y);
	}
	return inner(x) + 1;
}

int later1(int x)
{
	return small(x) + ext(x);
}

/* ipa-split makes work.part.0, a declaration of GCC's own; at -O3 it is
 * inlined into use3(). */
static int work(int *p, int n)
{
	if (__builtin_expect(!p, 1))
		return 0;
	int s = 0;
	for (int i = 0; i < n; i++) {
		s += ext(p[i]) * small(i);
		sink = s + ext(i);
		s ^= ext(s + i) + ext(s - i) + ext(s * i);
	}
	return s + small(s);
}

int use1(int *p, int n)
{
	return work(p, n) + 1;
}

int use2(int *p, int n)
{
	return work(p, n + 1) * 2;
}

int use3(int *p)
{
	return work(p, 3) - 5;
}

/* A static local of a function inlined everywhere and then removed. */
static inline int counted(int x)
{
	static int calls;
	static const int steps[4] = {1, 3, 5, 7};

	calls++;
	return x + steps[x & 3];
}

int later2(int x)
{
	return counted(x) * ext(x);
}

int later3(int x)
{
	return counted(x + 1) - small(x);
}
