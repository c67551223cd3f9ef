/* test_api patch B: hp_api_target adds 200 (stacks on patch A); so does
 * hp_api_entry_target, the benchmark's function in the plugins' layout. */
int hp_api_target(int x);

int hp_api_target(int x)
{
	return x * 7 + 200;
}

int hp_api_entry_target(int x);

int hp_api_entry_target(int x)
{
	return x * 7 + 200;
}
