/* Hash stability: tests rebuild this with lines inserted (must not change
 * any hash) and with one constant changed (must change exactly the
 * function that uses it, and the functions it is inlined into). */
#ifndef K
#define K 7
#endif
#ifndef KS
#define KS 5
#endif
#ifndef MSG
#define MSG "v1"
#endif

int g_state = 3;
static int counter;

static int helper(int x) { return x * K + g_state; }

int caller1(int x) { return helper(x) + 1; }

int caller2(int x) { return helper(x + 1) - 1; }

__attribute__((noinline)) int solo(int x) { return x * KS; }

int uses_solo(int x) { return solo(x) + solo(x + 1); }

const char *msg(void) { return MSG; }

double scale(double d) { return d * 1.5; }

int count(void)
{
	static int calls;
	return ++calls + counter++;
}

int other(int a, int b)
{
	int s = 0;
	for (int i = a; i < b; i++)
		s += i * i;
	return s;
}
