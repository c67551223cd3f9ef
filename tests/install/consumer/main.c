#include <stdio.h>

#include <hotpatch/hotpatch.h>

static int answer(int x)
{
	return x * 6;
}

int main(void)
{
	printf("answer %d, libhotpatch %s\n", answer(7), hp_version());
	return 0;
}
