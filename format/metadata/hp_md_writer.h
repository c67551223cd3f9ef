/* Encoding of one translation unit's .hotpatch record as assembler text.
 *
 * The compiler plugins describe a TU with the plain structs below; the
 * writer lays out the on-disk record of hp_metadata_format.h and prints it
 * as GNU assembler directives (.byte data, ".quad sym" at every address
 * field) inside ".pushsection .hotpatch". Emitting text rather than bytes
 * lets the assembler and linker fill in addresses, even of static symbols
 * whose names repeat across TUs.
 */
#ifndef HP_MD_WRITER_H
#define HP_MD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_md_tu_desc {
	uint32_t flags;	   /* HP_MD_TU_* */
	uint32_t compiler; /* HP_MD_COMPILER_* */
	const char *source;
	const char *cwd;
	size_t argc;
	const char *const *argv;
	const char *output;
	const char *compiler_version;
	const char *plugin_version;
};

struct hp_md_func_desc {
	const char *name;     /* symbol name recorded in the metadata */
	const char *asm_name; /* symbol for ".quad"; NULL writes address 0 */
	uint64_t hash;
	uint32_t line_hash; /* hp_md_func_disk.line_hash */
	uint32_t flags;	    /* HP_MD_FUNC_* */
	uint32_t entry_offset;
	const char *origin;		  /* clone origin or NULL */
	const char *not_patchable_reason; /* NULL when patchable */
	const char *const *inlined;
	size_t inlined_count;
	const char *const *calls;
	size_t calls_count;
	const char *const *vars;
	size_t vars_count;
};

struct hp_md_var_desc {
	const char *name;
	const char *asm_name; /* NULL writes address 0 */
	uint64_t size;
	uint64_t init_hash;
	uint32_t flags;	   /* HP_MD_VAR_* */
	const char *owner; /* STATIC_LOCAL: owning function */
	const char *source_name;
};

/* Encode one record and return it as assembler text in *text (malloc'd,
 * NUL-terminated; the caller frees it). Returns 0 or a negative errno
 * (-ENOMEM, -EINVAL for a NULL name or a record over 4 GiB, -E2BIG). */
int hp_md_asm_encode(const struct hp_md_tu_desc *tu, const struct hp_md_func_desc *funcs,
		     size_t func_count, const struct hp_md_var_desc *vars, size_t var_count,
		     char **text);

/* The same record as bytes, as the assembler lays it out before the
 * linker relocates it: every address field holds 0 where the text has
 * ".quad sym". *rec is malloc'd (the caller frees it), *size a multiple of
 * HP_MD_ALIGN. For tests that read back what the plugins write; returns as
 * hp_md_asm_encode() does. */
int hp_md_encode(const struct hp_md_tu_desc *tu, const struct hp_md_func_desc *funcs,
		 size_t func_count, const struct hp_md_var_desc *vars, size_t var_count,
		 unsigned char **rec, size_t *size);

#ifdef __cplusplus
}
#endif

#endif
