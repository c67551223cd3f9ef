#include <stdio.h>
int __attribute__((noinline)) answer(void)
{
	return 41;
}
int main(void)
{
	printf("%d\n", answer());
	return 0;
}
