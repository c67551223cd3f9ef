#include <assert.h>
#include <stdio.h>

void log_at(const char *file, int line, const char *msg);
#define LOG(msg) log_at(__FILE__, __LINE__, msg)

void log_at(const char *file, int line, const char *msg)
{
	fprintf(stderr, "%s:%d: %s\n", file, line, msg);
}

int __attribute__((noinline)) fixed(int x)
{
	return x + 1;
}

/* below the fix: its __LINE__ values move, nothing else */
int __attribute__((noinline)) checked(int x)
{
	assert(x > 0);
	LOG("checked");
	return x * 2;
}

int main(int argc, char **argv)
{
	(void)argv;
	return fixed(argc) + checked(argc);
}
