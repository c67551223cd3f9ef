/* The library's version; its error texts are format/hp_errors.c. */
#include "hp_internal.h"

HP_EXPORT const char *hp_version(void)
{
	return HP_VERSION_STRING;
}
