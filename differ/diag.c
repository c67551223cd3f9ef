#include "diag.h"

#include <stdio.h>
#include <string.h>

int mp_fail(struct mp_diag *d, int err, const char *fmt, ...)
{
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	return -err;
}

const char *mp_strerror(int err)
{
	static const char *const text[] = {
		[MP_EMALFORMED - MP_ERRNO_END] = "malformed ELF file or metadata",
		[MP_ENOMETA - MP_ERRNO_END] = "no hotpatch metadata (built without the plugin)",
		[MP_EDIFFERENT - MP_ERRNO_END] = "the builds share no translation unit",
		[MP_EREFUSED - MP_ERRNO_END] = "unsafe change refused",
		[MP_ERECOMPILE - MP_ERRNO_END] = "recompiling or linking the patch failed",
	};
	if (err < 0)
		err = -err;
	if (err < MP_ERRNO_END)
		return strerror(err);
	size_t i = (size_t)(err - MP_ERRNO_END);
	return i < sizeof(text) / sizeof(text[0]) && text[i] ? text[i] : "unknown mkpatch error";
}
