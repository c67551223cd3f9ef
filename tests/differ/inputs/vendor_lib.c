/* A library built without the plugin (no "//@" metadata), linked after the
 * plugin-built main.c whose fix grows it, so all of this code moves: dense
 * switches become jump tables (entries: target - table, so they change when
 * .text moves relative to .rodata), string literals of length 0 to 15 sit
 * beside them, a pointer table refers to the strings and a static table
 * and a writable counter are read. The cases link it as it is (nothing
 * changes between builds), or with VENDOR_CHANGED in NEW: one literal
 * vend_op passes ("xyz" -> "xyZ") and one entry of the table vend_len
 * reads change. */
#include <string.h>

static const char *const names[] = {
	"",	    "a",	 "ab",		"abc",		 "abcd",	   "abcde",
	"abcdef",   "abcdefg",	 "abcdefgh",	"abcdefghi",	 "abcdefghij",	   "abcdefghijk",
	"abcdefghijkl", "abcdefghijklm", "abcdefghijklmn", "abcdefghijklmno",
};
#ifndef VENDOR_CHANGED
static const int weights[8] = {3, 1, 4, 1, 5, 9, 2, 6};
#define VENDOR_XYZ "xyz"
#else
static const int weights[8] = {3, 1, 4, 1, 5, 9, 2, 7};
#define VENDOR_XYZ "xyZ"
#endif
static int counter;

int __attribute__((noinline)) vend_emit(const char *s)
{
	counter += (int)strlen(s);
	return counter;
}

const char *__attribute__((noinline)) vend_name(int i)
{
	return names[i & 15];
}

int __attribute__((noinline)) vend_len(int i)
{
	return (int)strlen(vend_name(i)) + weights[i & 7];
}

int __attribute__((noinline)) vend_op(int op, int x)
{
	switch (op) {
	case 0: x += vend_emit(""); break;
	case 1: x ^= vend_emit("x"); break;
	case 2: x *= vend_emit("xy"); break;
	case 3: x -= vend_emit(VENDOR_XYZ); break;
	case 4: x = ~vend_emit("wxyz"); break;
	case 5: x <<= vend_emit("vwxyz") & 3; break;
	case 6: x /= 1 + vend_emit("uvwxyz"); break;
	case 7: x %= 1 + vend_emit("tuvwxyz"); break;
	default: x = 0;
	}
	return x;
}

static int __attribute__((noinline)) kind_of(int k)
{
	switch (k) {
	case 10: return vend_emit("") + 1;
	case 11: return vend_emit("k") * 3;
	case 12: return vend_emit("kl") - 7;
	case 13: return vend_emit("klm") ^ 9;
	case 14: return vend_emit("klmn") + 13;
	case 15: return vend_emit("klmno") << 1;
	case 16: return vend_emit("klmnop") >> 1;
	case 17: return vend_emit("klmnopq") | 4;
	default: return -1;
	}
}

int __attribute__((noinline)) vend_kind(int k)
{
	return kind_of(k) + kind_of(k + 10);
}
