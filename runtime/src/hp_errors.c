/* Error texts for the project's error range; errno values go to strerror. */
#include <string.h>

#include "hp_internal.h"

HP_EXPORT const char *hp_strerror(int err)
{
	static const char *const text[] = {
		[HP_EFORMAT - HP_EFORMAT] = "not a valid hotpatch package",
		[HP_EMAGIC - HP_EFORMAT] = "wrong package magic",
		[HP_EVERSION - HP_EFORMAT] = "unsupported package version",
		[HP_ETRUNC - HP_EFORMAT] = "package truncated",
		[HP_ECHECKSUM - HP_EFORMAT] = "package checksum mismatch",
		[HP_EBOUNDS - HP_EFORMAT] = "manifest offset out of bounds",
		[HP_ESIGNATURE - HP_EFORMAT] = "package signature does not verify",
		[HP_EUNTRUSTED - HP_EFORMAT] = "package not signed by a trusted key",
		[HP_ENOTARGET - HP_EFORMAT] = "target image not loaded (build-id)",
		[HP_EMISMATCH - HP_EFORMAT] = "target code differs from the patch's expectation",
		[HP_ENOTPATCHABLE - HP_EFORMAT] = "target function is not patchable",
		[HP_EOUTSIDE - HP_EFORMAT] = "offset outside the image",
		[HP_EWX - HP_EFORMAT] = "kernel refuses writable executable code (W^X)",
		[HP_ELOAD - HP_EFORMAT] = "dynamic loader refused the package",
		[HP_ENOPATCH - HP_EFORMAT] = "no such patch",
		[HP_EPROTO - HP_EFORMAT] = "control protocol error",
		[HP_EHOOK - HP_EFORMAT] = "a patch hook refused the operation",
	};

	if (err < 0)
		err = -err;
	if (err >= HP_EFORMAT && err < HP_ERR_END) {
		const char *t = text[err - HP_EFORMAT];

		return t ? t : "unknown hotpatch error";
	}
	return strerror(err);
}

HP_EXPORT const char *hp_version(void)
{
	return HP_VERSION_STRING;
}
