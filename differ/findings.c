#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int add(char ***list, size_t *n, const char *fmt, va_list ap)
{
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	char **l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l) {
		free(msg);
		return -ENOMEM;
	}
	l[(*n)++] = msg;
	*list = l;
	return 0;
}

int mp_refuse(struct mp_findings *fi, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = add(&fi->refusals, &fi->nrefusals, fmt, ap);
	va_end(ap);
	return err;
}

int mp_warn(struct mp_findings *fi, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = add(&fi->warnings, &fi->nwarnings, fmt, ap);
	va_end(ap);
	return err;
}

void mp_findings_release(struct mp_findings *fi)
{
	for (size_t i = 0; i < fi->nrefusals; i++)
		free(fi->refusals[i]);
	for (size_t i = 0; i < fi->nwarnings; i++)
		free(fi->warnings[i]);
	free(fi->refusals);
	free(fi->warnings);
	fi->refusals = fi->warnings = NULL;
	fi->nrefusals = fi->nwarnings = 0;
}
