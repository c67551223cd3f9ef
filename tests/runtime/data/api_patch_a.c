/* test_api patch A: hp_api_target reads the old image's hp_api_factor
 * through a proxy slot and adds 100. */
int hp_api_target(int x);

static int *slot_factor __asm__("__hp_proxy.hp_api_factor")
	__attribute__((section("hotpatch_proxy"), used));

int hp_api_target(int x)
{
	return x * *slot_factor + 100;
}
