#include "build.h"

#include <errno.h>

int mp_build_package(const struct mp_program *old, const struct mp_program *new,
		     const struct mp_build_opts *o, struct mp_findings *fi, struct mp_diag *d)
{
	return mp_fail(d, ENOSYS, "package building not implemented yet");
}
