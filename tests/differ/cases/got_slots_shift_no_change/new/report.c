/* Built without the plugin (no directives): unchanged, but it reads
 * stdout through the GOT, calls fputs through the PLT and stores an
 * immediate into a static whose neighbours move. */
#include <stdio.h>

static int last = 1;

void report(const char *what)
{
	fputs(what, stdout);
	last = -1;
}

int report_last(void) { return last; }
