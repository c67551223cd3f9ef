/* On-disk format of the .hotpatch metadata section.
 *
 * Written by the compiler plugins (Clang and GCC alike), read by mkpatch.
 * Every translation unit contributes one record; the linker concatenates the
 * records of every object into the final binary's .hotpatch section, which
 * is SHT_PROGBITS without SHF_ALLOC, so it costs nothing at run time.
 *
 * Each record starts 8-aligned and its size is a multiple of 8, so records
 * follow one another without padding and a reader walks them by
 * record_size. All integers are little-endian. Strings live in the record's
 * string table; a string is referred to by its offset there, and offset 0
 * is always the empty string ("none").
 *
 * Addresses are emitted as relocations to the symbol (".quad sym"), so in a
 * linked binary they hold the symbol's link-time virtual address — exactly
 * its st_value — even for static functions whose names repeat across TUs.
 * An address of 0 means the linker discarded the symbol (--gc-sections).
 */
#ifndef HP_METADATA_FORMAT_H
#define HP_METADATA_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
#define HP_MD_STATIC_ASSERT static_assert
#else
#define HP_MD_STATIC_ASSERT _Static_assert
#endif

#define HP_MD_SECTION ".hotpatch"
#define HP_MD_MAGIC "HPMD" /* 4 bytes, no terminator on disk */
#define HP_MD_VERSION 1
#define HP_MD_ALIGN 8
/* Bumped whenever the plugins hash or optimise differently, so that two
 * builds whose hashes cannot be compared are told apart: 1 = callees
 * inexact for IPO (nobuiltin), line numbers out of the body hash, GCC
 * constants by content. */
#define HP_MD_HASH_RULES 1

/* hp_md_tu_disk.flags */
enum {
	HP_MD_TU_PATCH_MODE = 1u << 0,	  /* record of a patch-mode compile */
	HP_MD_TU_PIC = 1u << 1,		  /* compiled as position-independent code */
	HP_MD_TU_CF_PROTECTION = 1u << 2, /* -fcf-protection=branch: entries start with endbr64 */
	HP_MD_TU_PIE = 1u << 3,		  /* position-independent executable code (-fPIE,
					     Debian's default): binds locally, unlike -fPIC */
};

/* hp_md_tu_disk.compiler */
enum {
	HP_MD_COMPILER_CLANG = 1,
	HP_MD_COMPILER_GCC = 2,
};

struct hp_md_tu_disk {
	char magic[4];	      /* HP_MD_MAGIC */
	uint16_t version;     /* HP_MD_VERSION */
	uint16_t header_size; /* sizeof(struct hp_md_tu_disk) of the writer */
	uint32_t record_size; /* header + arrays + strings, multiple of 8 */
	uint32_t flags;	      /* HP_MD_TU_* */
	uint32_t compiler;    /* HP_MD_COMPILER_* */
	uint32_t func_count;  /* struct hp_md_func_disk[func_count] ... */
	uint32_t func_offset; /* ... at this offset from the record start */
	uint32_t var_count;   /* struct hp_md_var_disk[var_count] ... */
	uint32_t var_offset;
	uint32_t ref_count;	   /* uint32_t[ref_count] of string offsets; the */
	uint32_t ref_offset;	   /* per-function lists below are slices of it */
	uint32_t strtab_offset;	   /* string table: NUL-terminated strings, */
	uint32_t strtab_size;	   /* starting with the empty string at 0 */
	uint32_t source;	   /* source path as the compiler was given it */
	uint32_t cwd;		   /* working directory of the compile */
	uint32_t argc;		   /* compile command: argc consecutive strings */
	uint32_t argv;		   /* starting at this string offset */
	uint32_t output;	   /* object file path as given with -o, or "" */
	uint32_t compiler_version; /* e.g. "clang 19.1.7" */
	uint32_t plugin_version;   /* e.g. "hotpatch 0.1.0" */
	uint32_t hash_rules;	   /* HP_MD_HASH_RULES of the writer (0: before there
				      was one): hashes compare only under the same rules */
	uint32_t reserved;
};
HP_MD_STATIC_ASSERT(sizeof(struct hp_md_tu_disk) == 88, "hp_md_tu_disk layout");

/* hp_md_func_disk.flags */
enum {
	HP_MD_FUNC_EXTERNAL = 1u << 0, /* global symbol (else local to the TU) */
	HP_MD_FUNC_WEAK = 1u << 1,
	HP_MD_FUNC_PATCHABLE = 1u << 2, /* padding and atomic entry present */
	HP_MD_FUNC_ENDBR = 1u << 3,	/* entry starts with endbr64 */
	HP_MD_FUNC_CLONE = 1u << 4,	/* compiler-made clone/part of origin */
	HP_MD_FUNC_VARIADIC = 1u << 5,
	HP_MD_FUNC_ADDRESS_TAKEN = 1u << 6, /* may be reached indirectly */
	HP_MD_FUNC_ENTRY_INSN = 1u << 8,    /* the 2 patchable bytes begin the first
					       instruction (>= 2 bytes, never a branch
					       target), not a NOP of their own */
	HP_MD_FUNC_FRAGMENT = 1u << 7,	    /* a part of origin's body (GCC's foo.cold): never
					       called, only jumped to from origin; it is
					       replaced together with origin */
};

struct hp_md_func_disk {
	uint64_t address;	       /* relocated symbol address; 0 when discarded */
	uint64_t hash;		       /* hash of the post-optimisation body */
	uint32_t name;		       /* symbol name */
	uint32_t flags;		       /* HP_MD_FUNC_* */
	uint32_t entry_offset;	       /* bytes from the symbol to the 2 patchable bytes
					  (0, or 4 after endbr64) */
	uint32_t origin;	       /* for a clone: the function it was made from */
	uint32_t not_patchable_reason; /* when !PATCHABLE: why ("naked") */
	uint32_t inlined_first;	       /* refs[]: every function whose code is part */
	uint32_t inlined_count;	       /* of this body, directly or nested */
	uint32_t calls_first;	       /* refs[]: functions this body calls or whose */
	uint32_t calls_count;	       /* address it takes */
	uint32_t vars_first;	       /* refs[]: global variables (incl. static */
	uint32_t vars_count;	       /* locals) this body references */
	uint32_t line_hash;	       /* the line numbers this body passes to calls
					  (an assert's __LINE__), left out of hash;
					  0: none (or no line information) */
};
HP_MD_STATIC_ASSERT(sizeof(struct hp_md_func_disk) == 64, "hp_md_func_disk layout");

/* hp_md_var_disk.flags */
enum {
	HP_MD_VAR_EXTERNAL = 1u << 0, /* global symbol (else local) */
	HP_MD_VAR_WEAK = 1u << 1,
	HP_MD_VAR_TLS = 1u << 2,	  /* thread-local */
	HP_MD_VAR_CONST = 1u << 3,	  /* read-only */
	HP_MD_VAR_STATIC_LOCAL = 1u << 4, /* a function's static local */
	HP_MD_VAR_PROXY = 1u << 5,	  /* patch mode: a proxy slot for name */
	HP_MD_VAR_DECLARATION = 1u << 6,  /* referenced, not defined here */
	/* Writable, but no code can write it: local to the TU, every use
	 * reads it (a load, the source of a copy), and its initial value holds
	 * no address. A patch may carry a changed copy as for a const. */
	HP_MD_VAR_NEVER_WRITTEN = 1u << 7,
};

struct hp_md_var_disk {
	uint64_t address;     /* relocated symbol address; 0 when discarded.
				 For a PROXY entry: the slot's address. */
	uint64_t size;	      /* bytes */
	uint64_t init_hash;   /* hash of the initial value; 0 if zero-filled */
	uint32_t name;	      /* symbol name (for PROXY: the target's name) */
	uint32_t flags;	      /* HP_MD_VAR_* */
	uint32_t owner;	      /* STATIC_LOCAL: the owning function's name */
	uint32_t source_name; /* the name as written in the source */
};
HP_MD_STATIC_ASSERT(sizeof(struct hp_md_var_disk) == 40, "hp_md_var_disk layout");

#endif
