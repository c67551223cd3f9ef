/* Patch A for target.c: compute() gains +1000 and reads the old image's
 * `factor` through a proxy slot; helper() returns x+5. */
static int *slot_factor __asm__("__hp_proxy.factor")
	__attribute__((section("hotpatch_proxy"), used));

__attribute__((noinline)) int compute(int x)
{
	return x * *slot_factor + 1000;
}

__attribute__((noinline)) int helper(int x)
{
	return x + 5;
}
