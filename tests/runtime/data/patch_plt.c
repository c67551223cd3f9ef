/* Patch A plus a call into libc, so that the package has a .plt: a
 * replacement offset pointing there must be refused. */
#include <unistd.h>

#include "patch_a.c"

__attribute__((noinline, used)) int calls_libc(void)
{
	return (int)getpid();
}
