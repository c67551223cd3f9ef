/* __FILE__ and __LINE__ passed together (assert, a log macro) move when a
 * line is inserted above; test_lines.sh compiles this file and a copy with
 * blank lines on top (-DMOVED changes nothing else). */
#include <assert.h>

void log_at(const char *file, int line, const char *msg);
#define LOG(msg) log_at(__FILE__, __LINE__, msg)

int checked(int x)
{
	assert(x > 0);
	LOG("checked");
	return x + 1;
}

/* A constant that only happens to be a line number: no __FILE__ beside it,
 * so it is code like any other constant. */
void log_code(int code);
int coded(void)
{
	log_code(21);
	return 0;
}

int plain(int x)
{
	return x * 3;
}

/* A log helper inlined into its caller: the number reaches sink() from the
 * caller's line, which is where __LINE__ was written. */
void sink(const char *file, int line, const char *msg);
static inline void log_here(const char *file, int line, const char *msg)
{
	sink(file, line, msg);
}
#define LOG2(msg) log_here(__FILE__, __LINE__, msg)

int helped(int x)
{
	LOG2("helped");
	return x - 1;
}
