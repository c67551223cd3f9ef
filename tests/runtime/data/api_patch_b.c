/* test_api patch B: hp_api_target adds 200 (stacks on patch A). */
int hp_api_target(int x);

int hp_api_target(int x)
{
	return x * 7 + 200;
}
