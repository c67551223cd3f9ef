/* The texts of the one error space (hotpatch/errors.h). */
#include <string.h>

#include "hotpatch/errors.h"

/* Exported by libhotpatch, which builds with hidden visibility. */
__attribute__((visibility("default"))) const char *hp_strerror(int err)
{
	static const char *const text[HP_ERR_END - HP_ERRNO_END] = {
#define T(code, s) [code - HP_ERRNO_END] = s
		T(HP_EFORMAT, "not a valid hotpatch package"),
		T(HP_EMAGIC, "wrong package magic"),
		T(HP_EVERSION, "unsupported package version"),
		T(HP_ETRUNC, "package truncated"),
		T(HP_ECHECKSUM, "package checksum mismatch"),
		T(HP_EBOUNDS, "manifest offset out of bounds"),
		T(HP_ESIGNATURE, "package signature does not verify"),
		T(HP_EUNTRUSTED, "package not signed by a trusted key"),
		T(HP_ENOTARGET, "target image not loaded (build-id)"),
		T(HP_EMISMATCH, "target code differs from the patch's expectation"),
		T(HP_ENOTPATCHABLE, "target function is not patchable"),
		T(HP_EOUTSIDE, "offset outside the image"),
		T(HP_EWX, "kernel refuses writable executable code (W^X)"),
		T(HP_ELOAD, "dynamic loader refused the package"),
		T(HP_ENOPATCH, "no such patch"),
		T(HP_EPROTO, "control protocol error"),
		T(HP_EHOOK, "a patch hook refused the operation"),
		T(HP_EMD_MAGIC, "bad magic in .hotpatch record"),
		T(HP_EMD_VERSION, "unsupported .hotpatch record version"),
		T(HP_EMD_TRUNC, "truncated .hotpatch record"),
		T(HP_EMD_MALFORMED, "malformed .hotpatch record"),
		T(HP_EMALFORMED, "malformed ELF file or metadata"),
		T(HP_ENOMETA, "no hotpatch metadata (built without the plugin)"),
		T(HP_EDIFFERENT, "the builds share no translation unit"),
		T(HP_EREFUSED, "unsafe change refused"),
		T(HP_ERECOMPILE, "recompiling or linking the patch failed"),
#undef T
	};

	if (err < 0)
		err = -err;
	if (err < HP_ERRNO_END)
		return strerror(err);
	if (err < HP_ERR_END && text[err - HP_ERRNO_END])
		return text[err - HP_ERRNO_END];
	return "unknown hotpatch error";
}
