#warning "hp-test: a warning of the fixed source"
#include <stdio.h>
int __attribute__((noinline)) answer(void)
{
	return 42;
}
int main(void)
{
	printf("%d\n", answer());
	return 0;
}
