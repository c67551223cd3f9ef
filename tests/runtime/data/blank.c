int hp_test_blank(void)
{
	return 0;
}
