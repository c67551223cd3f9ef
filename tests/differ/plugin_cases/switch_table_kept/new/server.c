#include <stdio.h>
struct limits { int a, b, c, d, e; } lim = {1, 2, 3, 4, 5};
int fallback;
/* clang -O2: switch.table.field_of, entries &lim.a ... &lim.e */
int *__attribute__((noinline)) field_of(int i)
{
	switch (i) {
	case 0: return &lim.a;
	case 1: return &lim.b;
	case 2: return &lim.d;
	case 3: return &lim.d;
	case 4: return &lim.e;
	default: return &fallback;
	}
}
int main(int argc, char **argv) { (void)argv; printf("%d\n", *field_of(argc)); return 0; }
