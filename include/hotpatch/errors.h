/* hotpatch's one error space: every library and tool of the project
 * (package format, metadata format, libhotpatch, mkpatch, the CLI) returns
 * 0 or a negative code that is either -errno or -HP_E*, and hp_strerror()
 * names both. The codes live above errno's range and never change their
 * value once released; each group below keeps room to grow.
 *
 * Installed as <hotpatch/errors.h>; <hotpatch/hotpatch.h> includes it.
 */
#ifndef HOTPATCH_ERRORS_H
#define HOTPATCH_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

enum hp_error {
	HP_ERRNO_END = 4096, /* errno values are below this */

	/* the package format (reader, writer, signature): 4096-4109 */
	HP_EFORMAT = 4096,    /* not a package / malformed manifest */
	HP_EMAGIC = 4097,     /* wrong manifest magic */
	HP_EVERSION = 4098,   /* unsupported manifest version */
	HP_ETRUNC = 4099,     /* truncated package */
	HP_ECHECKSUM = 4100,  /* checksum mismatch: damaged package */
	HP_EBOUNDS = 4101,    /* offset outside the manifest */
	HP_ESIGNATURE = 4102, /* signature does not verify: package changed */
	HP_EUNTRUSTED = 4103, /* not signed by a key of HOTPATCH_TRUSTED_KEYS */

	/* libhotpatch, applying to a running process: 4110-4129 */
	HP_ENOTARGET = 4110,	 /* no loaded image has the package's build-id */
	HP_EMISMATCH = 4111,	 /* target bytes differ from what the patch expects */
	HP_ENOTPATCHABLE = 4112, /* target lacks padding / 2-byte entry */
	HP_EOUTSIDE = 4113,	 /* an offset lies outside the image's segments */
	HP_EWX = 4114,		 /* kernel refuses writable+executable code */
	HP_ELOAD = 4115,	 /* dynamic loader refused the package */
	HP_ENOPATCH = 4116,	 /* no applied patch by that id or name */
	HP_EPROTO = 4117,	 /* malformed control message */
	HP_EHOOK = 4118,	 /* a patch's pre-apply or pre-revert hook said no */

	/* the .hotpatch metadata format: 4130-4139 */
	HP_EMD_MAGIC = 4130,	 /* record does not start with HP_MD_MAGIC */
	HP_EMD_VERSION = 4131,	 /* unsupported HP_MD_VERSION */
	HP_EMD_TRUNC = 4132,	 /* a size or offset points past the data */
	HP_EMD_MALFORMED = 4133, /* inconsistent fields (alignment, strings) */

	/* mkpatch, comparing two builds: 4140-4159 */
	HP_EMALFORMED = 4140, /* an input is not a well-formed ELF file / DWARF */
	HP_ENOMETA = 4141,    /* no .hotpatch metadata: built without the plugin */
	HP_EDIFFERENT = 4142, /* the two builds share no translation unit */
	HP_EREFUSED = 4143,   /* a change that cannot be patched safely */
	HP_ERECOMPILE = 4144, /* a patch-mode compile or the link failed */

	HP_ERR_END
};

/* Text for an error code, negative or positive: strerror() of an errno,
 * the meaning of an HP_E* code; never NULL. */
const char *hp_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
