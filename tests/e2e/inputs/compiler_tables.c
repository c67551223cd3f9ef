/* Tables of addresses that the compilers make on their own, for
 * tests/e2e/compiler-tables.sh. -DFIXED is the fix; -DUSER_TABLE adds a
 * table the source names, which patch mode refuses.
 *
 * Clang -O2 turns field_of's and op_for's switches into switch.table.*
 * and the initialised local arrays into __const.*; GCC -Os (its -fPIC
 * patch build makes no address switch tables) puts the local arrays in
 * its constant pool (.LC). The fix changes field_of, pick_of and calc, so
 * their tables travel in the package with entries pointing into the old
 * image; rev_of and op_for do not change, so their tables, in the same
 * recompiled file, are dropped with their bodies.
 *
 * Reads one command a line on stdin and answers one line:
 *   f I      *field_of(I)        p I      pick_of(I)
 *   r I      rev_of(I)           o I A B  op_for(I)(A, B)
 *   c I A B  calc(I, A, B)       d        describe()
 */
#include <stdio.h>
#include <string.h>

struct limits {
	int a, b, c, d, e;
};

struct limits lim = {10, 20, 30, 40, 50};
int fallback = -1;

typedef long (*op_fn)(long, long);

__attribute__((noinline)) long op_add(long a, long b)
{
	return a + b;
}

__attribute__((noinline)) long op_sub(long a, long b)
{
	return a - b;
}

__attribute__((noinline)) long op_mul(long a, long b)
{
	return a * b;
}

__attribute__((noinline)) long op_min(long a, long b)
{
	return a < b ? a : b;
}

__attribute__((noinline)) int *field_of(int i)
{
	switch (i) {
	case 0:
		return &lim.a;
	case 1:
		return &lim.b;
	case 2:
#ifdef FIXED
		return &lim.d;
#else
		return &lim.c;
#endif
	case 3:
		return &lim.d;
	case 4:
		return &lim.e;
	default:
		return &fallback;
	}
}

__attribute__((noinline)) int pick_of(int i)
{
#ifdef FIXED
	int *t[8] = {&lim.a, &lim.d, &lim.c, &lim.b, &lim.a, &fallback, &lim.a, &lim.b};
#else
	int *t[8] = {&lim.e, &lim.d, &lim.c, &lim.b, &lim.a, &fallback, &lim.a, &lim.b};
#endif
	return *t[i & 7];
}

__attribute__((noinline)) int rev_of(int i)
{
	int *t[8] = {&lim.b, &lim.c, &lim.d, &lim.e, &fallback, &lim.a, &lim.e, &lim.d};
	return *t[i & 7];
}

__attribute__((noinline)) op_fn op_for(int i)
{
	switch (i) {
	case 0:
		return op_add;
	case 1:
		return op_sub;
	case 2:
		return op_mul;
	case 3:
		return op_min;
	default:
		return op_add;
	}
}

#ifdef USER_TABLE
/* named by the source: its initial value cannot be filled through slots */
op_fn user_ops[4] = {op_add, op_sub, op_mul, op_min};
#endif

__attribute__((noinline)) long calc(int i, long a, long b)
{
#ifdef USER_TABLE
	return user_ops[i & 3](a, b);
#elif defined(FIXED)
	op_fn t[8] = {op_add, op_sub, op_mul, op_mul, op_add, op_sub, op_mul, op_min};
	return t[i & 7](a, b);
#else
	op_fn t[8] = {op_add, op_sub, op_mul, op_min, op_add, op_sub, op_mul, op_min};
	return t[i & 7](a, b);
#endif
}

__attribute__((noinline)) const char *describe(void)
{
#ifdef FIXED
	return "fixed";
#else
	return "old";
#endif
}

int main(void)
{
	char line[256];
	long a, b;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "f %d", &i) == 1)
			printf("%d\n", *field_of(i));
		else if (sscanf(line, "p %d", &i) == 1)
			printf("%d\n", pick_of(i));
		else if (sscanf(line, "r %d", &i) == 1)
			printf("%d\n", rev_of(i));
		else if (sscanf(line, "o %d %ld %ld", &i, &a, &b) == 3)
			printf("%ld\n", op_for(i)(a, b));
		else if (sscanf(line, "c %d %ld %ld", &i, &a, &b) == 3)
			printf("%ld\n", calc(i, a, b));
		else if (!strcmp(line, "d\n"))
			printf("%s\n", describe());
		else
			printf("?\n");
	}
	return 0;
}
