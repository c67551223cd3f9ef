/* Patch A with a constructor: the runtime must refuse it before the loader
 * could run the constructor inside the target (which would kill it). */
#include <stdlib.h>

#include "patch_a.c"

__attribute__((constructor)) static void runs_at_load(void)
{
	abort();
}
