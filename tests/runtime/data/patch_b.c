/* Patch B for target.c: compute() gains +2000 (stacks on patch A). */
static int *slot_factor __asm__("__hp_proxy.factor")
	__attribute__((section("hotpatch_proxy"), used));

__attribute__((noinline)) int compute(int x)
{
	return x * *slot_factor + 2000;
}
