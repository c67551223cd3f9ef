/* On-disk format of a hotpatch package (.hpk).
 *
 * A package is an ELF shared object holding the replacement code, laid out
 * by linker-script/hotpatch-package.ld, plus one non-allocated section named
 * HP_PKG_MANIFEST_SECTION that holds the manifest below. mkpatch writes it
 * (through the package writer), the runtime reads it from the file before
 * anything is loaded or written, so a damaged package is refused without
 * ever reaching the dynamic loader.
 *
 * Offsets: a "target offset" is a link-time virtual address in the target
 * image (the symbol's st_value in the unstripped old build); the runtime adds
 * the image's load bias (dl_iterate_phdr's dlpi_addr). A "package offset" is
 * the same within the package. So PIE, non-PIE and shared objects all work
 * the same way and the runtime never searches a symbol table.
 *
 * All integers little-endian; strings are offsets into the manifest's string
 * table, 0 being the empty string.
 */
#ifndef HP_PACKAGE_FORMAT_H
#define HP_PACKAGE_FORMAT_H

#include <stdint.h>

#define HP_PKG_MANIFEST_SECTION ".hotpatch.manifest"
#define HP_PKG_MAGIC "HPATCHPK" /* 8 bytes, no terminator on disk */
/* Version 2 is written when a package has hooks, so a runtime that reads
 * only 1 refuses it ("version 2 not supported") instead of applying it
 * without running them; without hooks the writer still writes 1. */
#define HP_PKG_VERSION 2
#define HP_PKG_VERSION_NO_HOOKS 1
#define HP_PKG_BUILD_ID_MAX 64

/* hp_pkg_header_disk.flags */
enum {
	HP_PKG_SIGNED = 1u << 0, /* signature_offset/size are meaningful */
};

struct hp_pkg_header_disk {
	char magic[8];			       /* HP_PKG_MAGIC */
	uint16_t version;		       /* HP_PKG_VERSION(_NO_HOOKS) */
	uint16_t header_size;		       /* sizeof(struct hp_pkg_header_disk) */
	uint32_t manifest_size;		       /* header + arrays + strings + signature */
	uint64_t package_size;		       /* size in bytes of the whole package file */
	uint64_t checksum;		       /* hp_pkg_checksum() of the whole file, computed
						  with these 8 bytes taken as zero */
	uint64_t created;		       /* seconds since the epoch */
	uint8_t build_id[HP_PKG_BUILD_ID_MAX]; /* target's NT_GNU_BUILD_ID */
	uint32_t build_id_size;
	uint32_t flags;	      /* HP_PKG_* */
	uint32_t func_count;  /* struct hp_pkg_func_disk[func_count] ... */
	uint32_t func_offset; /* ... at this offset from the manifest start */
	uint32_t proxy_count; /* struct hp_pkg_proxy_disk[proxy_count] */
	uint32_t proxy_offset;
	uint32_t strtab_offset; /* NUL-terminated strings, "" at offset 0 */
	uint32_t strtab_size;
	uint32_t name;		   /* patch name shown by list/status */
	uint32_t target_name;	   /* target image path or soname, for messages */
	uint32_t description;	   /* free text (mkpatch --explain summary) */
	uint32_t signature_offset; /* struct hp_pkg_signature_disk when */
	uint32_t signature_size;   /* HP_PKG_SIGNED; 0 when unsigned */
	uint32_t reserved;
	/* From here on only when header_size says so (readers take 0 for a
	 * field beyond header_size: a package of an older writer). */
	uint32_t hook_count; /* struct hp_pkg_hook_disk[hook_count] ... */
	uint32_t hook_offset;
};
_Static_assert(sizeof(struct hp_pkg_header_disk) == 168, "hp_pkg_header_disk layout");
/* The smallest header a reader accepts: the fields up to reserved. */
#define HP_PKG_HEADER_MIN_SIZE 160

/* hp_pkg_func_disk.flags */
enum {
	HP_PKG_FUNC_ENDBR = 1u << 0, /* target entry starts with endbr64 */
	/* the 2 patchable bytes begin the target's first instruction, which is
	 * at least 2 bytes long and never a branch target (a NOP only when the
	 * compiler's first instruction was shorter): any bytes, not 66 90 */
	HP_PKG_FUNC_ENTRY_INSN = 1u << 1,
};

struct hp_pkg_func_disk {
	uint64_t target_offset;	     /* function symbol in the target image */
	uint64_t replacement_offset; /* replacement symbol in the package */
	uint64_t expected_hash;	     /* hp_pkg_checksum() of the target's
					expected_size bytes at target_offset,
					as built (before any patch) */
	uint32_t expected_size;	     /* bytes covered by expected_hash */
	uint32_t entry_offset;	     /* bytes from the symbol to the 2
					patchable bytes (0, or 4 after endbr64) */
	uint32_t name;		     /* symbol name, for messages */
	uint32_t tu;		     /* source file of the symbol, for messages */
	uint32_t flags;		     /* HP_PKG_FUNC_* */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hp_pkg_func_disk) == 48, "hp_pkg_func_disk layout");

/* hp_pkg_hook_disk.kind: when the runtime calls a patch hook */
enum {
	HP_PKG_HOOK_PRE_APPLY = 1,   /* after every check, before the first code write */
	HP_PKG_HOOK_POST_APPLY = 2,  /* after the last code write of an apply */
	HP_PKG_HOOK_PRE_REVERT = 3,  /* before the first code write of a revert */
	HP_PKG_HOOK_POST_REVERT = 4, /* after the last one */
};

/* A function of the package the runtime calls as
 * int hook(char *msg, size_t msglen) (hotpatch.h's HOTPATCH_*_APPLY). */
struct hp_pkg_hook_disk {
	uint64_t offset; /* the function's link-time address in the package */
	uint32_t kind;	 /* HP_PKG_HOOK_* */
	uint32_t name;	 /* its name, for messages */
};
_Static_assert(sizeof(struct hp_pkg_hook_disk) == 16, "hp_pkg_hook_disk layout");

struct hp_pkg_proxy_disk {
	uint64_t slot_offset;	/* pointer-sized slot in the package */
	uint64_t target_offset; /* what it must point at, in the target image */
	uint32_t name;		/* target symbol, for messages */
	uint32_t tu;		/* its source file, for messages */
	uint32_t flags;		/* reserved, 0 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hp_pkg_proxy_disk) == 32, "hp_pkg_proxy_disk layout");

/* The signature of a signed package (HP_PKG_SIGNED), inside the manifest.
 * It signs the whole file with two fields taken as zero: the header's
 * checksum (sealed after the signature, over the signed file) and the 64
 * signature bytes themselves. The signer's public key is part of what is
 * signed, so it cannot be swapped for another without the signature
 * failing; whether that key is trusted is the verifier's decision. */
#define HP_PKG_SIG_ED25519 1
#define HP_PKG_PUBLIC_KEY_SIZE 32
#define HP_PKG_SIGNATURE_SIZE 64

struct hp_pkg_signature_disk {
	uint32_t algorithm; /* HP_PKG_SIG_ED25519 */
	uint32_t reserved;  /* 0 */
	uint8_t public_key[HP_PKG_PUBLIC_KEY_SIZE];
	uint8_t signature[HP_PKG_SIGNATURE_SIZE]; /* Ed25519, detached */
};
_Static_assert(sizeof(struct hp_pkg_signature_disk) == 104, "hp_pkg_signature_disk layout");

#endif
