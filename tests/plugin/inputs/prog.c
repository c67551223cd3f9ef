/* A small program whose output must not change with the plugin. */
#include <stdio.h>
#include <string.h>

struct item { const char *name; int weight; };
static struct item items[] = { { "a", 3 }, { "bb", 5 }, { "ccc", 7 }, { "dddd", 11 } };
static unsigned long hist[4];

static int score(const struct item *it) { return it->weight * (int)strlen(it->name); }

__attribute__((noinline)) static unsigned long mix(unsigned long h, unsigned long v)
{
	h ^= v + 0x9e3779b97f4a7c15ul + (h << 6) + (h >> 2);
	return h;
}

int main(void)
{
	unsigned long h = 0;

	for (int round = 0; round < 2000000; round++) {
		for (unsigned i = 0; i < 4; i++) {
			h = mix(h, (unsigned long)score(&items[i]) + (unsigned long)round);
			hist[h & 3]++;
		}
	}
	printf("%lx %lu %lu %lu %lu\n", h, hist[0], hist[1], hist[2], hist[3]);
	return 0;
}
