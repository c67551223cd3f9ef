/* A shared object with what a package's loader must relocate: a pointer
 * in data (a RELATIVE relocation), a call into libc through the PLT (a
 * JUMP_SLOT), libc's address in data (GLOB_DAT or 64), and exported
 * symbols. test_rebase.c moves it and loads it. */
#include <stddef.h>
#include <string.h>

int rebase_value = 41;
int *rebase_pointer = &rebase_value;
size_t (*rebase_strlen_ptr)(const char *) = strlen;

int rebase_answer(void);
size_t rebase_length(const char *s);

int rebase_answer(void)
{
	return *rebase_pointer + 1;
}

size_t rebase_length(const char *s)
{
	return strlen(s) + rebase_strlen_ptr(s);
}
