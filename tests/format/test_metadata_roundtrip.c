/* What the metadata writer (hp_md_writer.c) lays out, the reader
 * (hp_md_reader.c) gives back field for field; the assembler text the
 * plugins emit holds exactly those bytes, with ".quad sym" at every address
 * field; and the reader refuses damaged copies with a reason. */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hp_md_reader.h"
#include "hp_md_writer.h"

static const char *const argv_in[] = {"cc", "-O2", "", "-c", "a.c", "-O2"};
static const char *const inl[] = {"g"};
static const char *const calls[] = {"h", "g"};
static const char *const vars_used[] = {"counter"};

static const struct hp_md_tu_desc tu_in = {
	.flags = HP_MD_TU_PIC | HP_MD_TU_CF_PROTECTION,
	.compiler = HP_MD_COMPILER_GCC,
	.source = "src/a.c",
	.cwd = "/build",
	.argc = sizeof(argv_in) / sizeof(argv_in[0]),
	.argv = argv_in,
	.output = "a.o",
	.compiler_version = "gcc 14.2.0",
	.plugin_version = "hotpatch 0.1.0",
};

static const struct hp_md_func_desc funcs_in[] = {
	{.name = "f",
	 .asm_name = "f",
	 .hash = 0x1122334455667788ull,
	 .line_hash = 0xabcdef01u,
	 .flags = HP_MD_FUNC_PATCHABLE | HP_MD_FUNC_EXTERNAL | HP_MD_FUNC_ENDBR,
	 .entry_offset = 4,
	 .inlined = inl,
	 .inlined_count = 1,
	 .calls = calls,
	 .calls_count = 2,
	 .vars = vars_used,
	 .vars_count = 1},
	{.name = "f.cold",
	 .asm_name = "f.cold",
	 .hash = 7,
	 .flags = HP_MD_FUNC_CLONE | HP_MD_FUNC_FRAGMENT,
	 .origin = "f",
	 .not_patchable_reason = "a fragment"},
	{.name = "gone", .asm_name = NULL, .hash = 9}, /* discarded: address 0 */
};

static const struct hp_md_var_desc vars_in[] = {
	{.name = "counter.0",
	 .asm_name = "counter name", /* quoted in the text */
	 .size = 8,
	 .init_hash = 0xfeedull,
	 .flags = HP_MD_VAR_STATIC_LOCAL,
	 .owner = "f",
	 .source_name = "counter"},
};

#define NFUNCS (sizeof(funcs_in) / sizeof(funcs_in[0]))
#define NVARS (sizeof(vars_in) / sizeof(vars_in[0]))

static void encode(unsigned char **rec, size_t *size)
{
	assert_int_equal(hp_md_encode(&tu_in, funcs_in, NFUNCS, vars_in, NVARS, rec, size), 0);
	assert_non_null(*rec);
	assert_int_equal(*size % HP_MD_ALIGN, 0);
}

/* The one record of data[0..size), checked. */
static void read_one(const unsigned char *data, size_t size, struct hp_md_record *rec)
{
	struct hp_md_iter it;

	hp_md_iter_init(&it, data, size);
	assert_int_equal(hp_md_next(&it, rec), 1);
	assert_null(it.why);
	struct hp_md_record end;
	assert_int_equal(hp_md_next(&it, &end), 0);
}

static void expect_refs(const struct hp_md_record *rec, uint32_t first, uint32_t count,
			const char *const *want, size_t nwant)
{
	assert_int_equal(count, nwant);
	for (uint32_t i = 0; i < count; i++)
		assert_string_equal(hp_md_ref(rec, first, i), want[i]);
	assert_null(hp_md_ref(rec, rec->hdr.ref_count, 0));
}

static void test_header_round_trip(void **state)
{
	(void)state;
	unsigned char *bytes;
	size_t size;
	struct hp_md_record rec;
	const char *argv[sizeof(argv_in) / sizeof(argv_in[0])];

	encode(&bytes, &size);
	read_one(bytes, size, &rec);
	assert_memory_equal(rec.hdr.magic, HP_MD_MAGIC, 4);
	assert_int_equal(rec.hdr.version, HP_MD_VERSION);
	assert_int_equal(rec.hdr.header_size, sizeof(struct hp_md_tu_disk));
	assert_int_equal(rec.hdr.record_size, size);
	assert_int_equal(rec.hdr.flags, tu_in.flags);
	assert_int_equal(rec.hdr.compiler, HP_MD_COMPILER_GCC);
	assert_int_equal(rec.hdr.hash_rules, HP_MD_HASH_RULES);
	assert_int_equal(rec.hdr.func_count, NFUNCS);
	assert_int_equal(rec.hdr.var_count, NVARS);
	/* the writer aligns every array (the reader does not insist) */
	assert_int_equal(rec.hdr.func_offset % 8, 0);
	assert_int_equal(rec.hdr.var_offset % 8, 0);
	assert_int_equal(rec.hdr.ref_offset % 4, 0);
	assert_string_equal(hp_md_str(&rec, rec.hdr.source), "src/a.c");
	assert_string_equal(hp_md_str(&rec, rec.hdr.cwd), "/build");
	assert_string_equal(hp_md_str(&rec, rec.hdr.output), "a.o");
	assert_string_equal(hp_md_str(&rec, rec.hdr.compiler_version), "gcc 14.2.0");
	assert_string_equal(hp_md_str(&rec, rec.hdr.plugin_version), "hotpatch 0.1.0");
	assert_string_equal(hp_md_str(&rec, 0), "");
	assert_null(hp_md_str(&rec, rec.hdr.strtab_size));
	/* argv: in order, repeats and the empty argument kept */
	assert_int_equal(rec.hdr.argc, tu_in.argc);
	assert_int_equal(hp_md_argv_all(&rec, argv), 0);
	for (size_t i = 0; i < tu_in.argc; i++) {
		assert_string_equal(argv[i], argv_in[i]);
		assert_ptr_equal(hp_md_argv(&rec, (uint32_t)i), argv[i]);
	}
	assert_null(hp_md_argv(&rec, rec.hdr.argc));
	free(bytes);
}

static void test_functions_and_variables_round_trip(void **state)
{
	(void)state;
	unsigned char *bytes;
	size_t size;
	struct hp_md_record rec;
	struct hp_md_func_disk f;
	struct hp_md_var_disk v;

	encode(&bytes, &size);
	read_one(bytes, size, &rec);
	for (uint32_t i = 0; i < NFUNCS; i++) {
		const struct hp_md_func_desc *want = &funcs_in[i];

		assert_int_equal(hp_md_func(&rec, i, &f), 0);
		assert_string_equal(hp_md_str(&rec, f.name), want->name);
		assert_int_equal(f.address, 0); /* a relocation, not data */
		assert_int_equal(f.hash, want->hash);
		assert_int_equal(f.line_hash, want->line_hash);
		assert_int_equal(f.flags, want->flags);
		assert_int_equal(f.entry_offset, want->entry_offset);
		assert_string_equal(hp_md_str(&rec, f.origin), want->origin ? want->origin : "");
		assert_string_equal(hp_md_str(&rec, f.not_patchable_reason),
				    want->not_patchable_reason ? want->not_patchable_reason : "");
		expect_refs(&rec, f.inlined_first, f.inlined_count, want->inlined,
			    want->inlined_count);
		expect_refs(&rec, f.calls_first, f.calls_count, want->calls, want->calls_count);
		expect_refs(&rec, f.vars_first, f.vars_count, want->vars, want->vars_count);
	}
	assert_int_equal(hp_md_func(&rec, NFUNCS, &f), -ERANGE);
	assert_int_equal(hp_md_var(&rec, 0, &v), 0);
	assert_string_equal(hp_md_str(&rec, v.name), "counter.0");
	assert_int_equal(v.size, 8);
	assert_int_equal(v.init_hash, 0xfeed);
	assert_int_equal(v.flags, HP_MD_VAR_STATIC_LOCAL);
	assert_string_equal(hp_md_str(&rec, v.owner), "f");
	assert_string_equal(hp_md_str(&rec, v.source_name), "counter");
	assert_int_equal(hp_md_var(&rec, NVARS, &v), -ERANGE);
	free(bytes);
}

/* Little-endian on disk whatever the host: the bytes of record_size. */
static void test_integers_little_endian(void **state)
{
	(void)state;
	unsigned char *bytes;
	size_t size;

	encode(&bytes, &size);
	assert_true(size < 0x10000);
	assert_int_equal(bytes[4], HP_MD_VERSION);
	assert_int_equal(bytes[5], 0);
	assert_int_equal(bytes[8], size & 0xff);
	assert_int_equal(bytes[9], size >> 8);
	assert_int_equal(bytes[10], 0);
	assert_int_equal(bytes[11], 0);
	/* f's hash, at offset 8 of the first function */
	assert_int_equal(bytes[sizeof(struct hp_md_tu_disk) + 8], 0x88);
	assert_int_equal(bytes[sizeof(struct hp_md_tu_disk) + 15], 0x11);
	free(bytes);
}

/* Two records as the linker concatenates them, with zero padding between. */
static void test_records_concatenated(void **state)
{
	(void)state;
	unsigned char *bytes, *two;
	size_t size;
	struct hp_md_iter it;
	struct hp_md_record rec;

	encode(&bytes, &size);
	two = calloc(1, 2 * size + 16);
	assert_non_null(two);
	memcpy(two, bytes, size);
	memcpy(two + size + 16, bytes, size);
	hp_md_iter_init(&it, two, 2 * size + 16);
	assert_int_equal(hp_md_next(&it, &rec), 1);
	assert_int_equal(rec.offset, 0);
	assert_int_equal(hp_md_next(&it, &rec), 1);
	assert_int_equal(rec.offset, size + 16);
	assert_string_equal(hp_md_str(&rec, rec.hdr.source), "src/a.c");
	assert_int_equal(hp_md_next(&it, &rec), 0);
	free(two);
	free(bytes);
}

/* ---- the assembler text ----------------------------------------------- */

struct text_image {
	unsigned char bytes[4096];
	size_t size;
	size_t quad_at[8]; /* offsets of the .quad directives */
	char quad_sym[8][64];
	size_t nquads;
};

/* Reads back the directives hp_md_asm_encode() prints: .byte lists, and
 * .quad SYM (bare or quoted) standing for 8 bytes the linker fills. */
static void parse_text(const char *text, struct text_image *img)
{
	const char *p = text;

	memset(img, 0, sizeof(*img));
	assert_non_null(strstr(text, ".pushsection .hotpatch,\"R\",@progbits"));
	assert_non_null(strstr(text, ".popsection"));
	while ((p = strchr(p, '.'))) {
		if (!strncmp(p, ".byte ", 6)) {
			char *end;

			p += 6;
			for (;;) {
				unsigned long v = strtoul(p, &end, 10);

				assert_true(end > p && v < 256);
				assert_true(img->size < sizeof(img->bytes));
				img->bytes[img->size++] = (unsigned char)v;
				if (*end != ',')
					break;
				p = end + 1;
			}
			p = end;
		} else if (!strncmp(p, ".quad ", 6)) {
			size_t n = 0;

			p += 6;
			assert_true(img->nquads < 8);
			if (*p == '"') {
				for (p++; *p != '"'; p++) {
					if (*p == '\\')
						p++;
					img->quad_sym[img->nquads][n++] = *p;
				}
			} else {
				while (*p && !isspace((unsigned char)*p))
					img->quad_sym[img->nquads][n++] = *p++;
			}
			img->quad_at[img->nquads++] = img->size;
			img->size += 8; /* zeros, as in hp_md_encode()'s bytes */
		} else {
			p++;
		}
	}
}

static void test_text_holds_the_same_bytes(void **state)
{
	(void)state;
	unsigned char *bytes;
	size_t size;
	char *text;
	struct text_image img;
	struct hp_md_record rec;

	encode(&bytes, &size);
	assert_int_equal(hp_md_asm_encode(&tu_in, funcs_in, NFUNCS, vars_in, NVARS, &text), 0);
	parse_text(text, &img);
	assert_int_equal(img.size, size);
	assert_memory_equal(img.bytes, bytes, size);
	/* one relocation per address with a symbol: f, f.cold, the variable */
	read_one(bytes, size, &rec);
	assert_int_equal(img.nquads, 3);
	assert_int_equal(img.quad_at[0], rec.hdr.func_offset);
	assert_string_equal(img.quad_sym[0], "f");
	assert_int_equal(img.quad_at[1], rec.hdr.func_offset + sizeof(struct hp_md_func_disk));
	assert_string_equal(img.quad_sym[1], "f.cold");
	assert_int_equal(img.quad_at[2], rec.hdr.var_offset);
	assert_string_equal(img.quad_sym[2], "counter name");
	free(text);
	free(bytes);
}

static void test_writer_refuses_nameless(void **state)
{
	(void)state;
	struct hp_md_func_desc f = {.name = NULL};
	struct hp_md_var_desc v = {.name = NULL};
	unsigned char *rec = (unsigned char *)"";
	size_t size = 1;
	char *text = (char *)"";

	assert_int_equal(hp_md_encode(&tu_in, &f, 1, NULL, 0, &rec, &size), -EINVAL);
	assert_null(rec);
	assert_int_equal(size, 0);
	assert_int_equal(hp_md_asm_encode(&tu_in, NULL, 0, &v, 1, &text), -EINVAL);
	assert_null(text);
}

/* ---- damaged records -------------------------------------------------- */

/* hp_md_next() on data[0..size): its result and reason. */
static int next_of(const unsigned char *data, size_t size, const char **why, size_t *at)
{
	struct hp_md_iter it;
	struct hp_md_record rec;
	int r;

	hp_md_iter_init(&it, data, size);
	while ((r = hp_md_next(&it, &rec)) > 0)
		;
	*why = it.why;
	*at = it.error_offset;
	return r;
}

static void expect_refused(const unsigned char *data, size_t size, int err, const char *why)
{
	const char *got;
	size_t at;

	assert_int_equal(next_of(data, size, &got, &at), err);
	assert_non_null(got);
	assert_string_equal(got, why);
}

static void test_every_truncation_refused(void **state)
{
	(void)state;
	unsigned char *bytes;
	size_t size;
	const char *why;
	size_t at;

	encode(&bytes, &size);
	for (size_t n = 1; n < size; n++) {
		unsigned char *cut = malloc(n); /* exactly n bytes: ASan sees overreads */

		assert_non_null(cut);
		memcpy(cut, bytes, n);
		assert_true(next_of(cut, n, &why, &at) < 0);
		assert_non_null(why);
		assert_int_equal(at, 0);
		free(cut);
	}
	assert_int_equal(next_of(bytes, 0, &why, &at), 0);
	assert_null(why);
	free(bytes);
}

/* Put v little-endian at offset off of a fresh copy of the record. */
static unsigned char *patched(uint32_t off, uint32_t v, size_t *size)
{
	unsigned char *bytes;

	encode(&bytes, size);
	for (int i = 0; i < 4; i++)
		bytes[off + i] = (unsigned char)(v >> (8 * i));
	return bytes;
}

#define HDR(field) offsetof(struct hp_md_tu_disk, field)
#define FUNC0(field) (sizeof(struct hp_md_tu_disk) + offsetof(struct hp_md_func_disk, field))

static void expect_patch_refused(uint32_t off, uint32_t v, int err, const char *why)
{
	size_t size;
	unsigned char *bytes = patched(off, v, &size);

	expect_refused(bytes, size, err, why);
	free(bytes);
}

static void test_damaged_fields_refused_with_reason(void **state)
{
	(void)state;
	expect_patch_refused(0, 0x58585858 /* "XXXX" */, -HP_EMD_MAGIC, "bad magic");
	expect_patch_refused(HDR(version), 2 | 88 << 16, -HP_EMD_VERSION, "version not supported");
	expect_patch_refused(HDR(version), 1 | 8 << 16, -HP_EMD_MALFORMED,
			     "bad header or record size"); /* header_size 8 */
	expect_patch_refused(HDR(record_size), 1 << 20, -HP_EMD_TRUNC, "bad header or record size");
	expect_patch_refused(HDR(record_size), 100, -HP_EMD_MALFORMED,
			     "bad header or record size"); /* not a multiple of 8 */
	expect_patch_refused(HDR(strtab_size), 0, -HP_EMD_TRUNC, "string table out of range");
	expect_patch_refused(HDR(strtab_offset), 0xffffff00, -HP_EMD_TRUNC,
			     "string table out of range");
	expect_patch_refused(HDR(func_count), 1000, -HP_EMD_TRUNC,
			     "function or variable array out of range");
	expect_patch_refused(HDR(var_offset), 0xfffffff8, -HP_EMD_TRUNC,
			     "function or variable array out of range");
	expect_patch_refused(HDR(cwd), 0x7fffffff, -HP_EMD_TRUNC, "string offset out of range");
	expect_patch_refused(HDR(source), 0, -HP_EMD_MALFORMED,
			     "translation unit without a source path");
	expect_patch_refused(HDR(argc), 0x7fffffff, -HP_EMD_TRUNC, "argc out of range");
	expect_patch_refused(HDR(ref_count), 0x40000000, -HP_EMD_TRUNC,
			     "reference array out of range");
	expect_patch_refused(FUNC0(origin), 99999, -HP_EMD_TRUNC, "string offset out of range");
	expect_patch_refused(FUNC0(calls_count), 4, -HP_EMD_TRUNC, "reference list out of range");
	expect_patch_refused(FUNC0(vars_first), 0xffffffff, -HP_EMD_TRUNC,
			     "reference list out of range");
	expect_patch_refused(FUNC0(name), 0, -HP_EMD_MALFORMED, "function without a name");
	expect_patch_refused(FUNC0(entry_offset), 17, -HP_EMD_MALFORMED,
			     "implausible entry offset");
}

static void test_damaged_strings_refused(void **state)
{
	(void)state;
	unsigned char *bytes;
	size_t size;
	struct hp_md_record rec;

	encode(&bytes, &size);
	read_one(bytes, size, &rec);
	uint32_t t = rec.hdr.strtab_offset, n = rec.hdr.strtab_size;
	uint32_t var_name = rec.hdr.var_offset + offsetof(struct hp_md_var_disk, name);
	uint32_t ref0 = rec.hdr.ref_offset;

	bytes[t + n - 1] = 'x';
	expect_refused(bytes, size, -HP_EMD_MALFORMED, "string table not terminated");
	bytes[t + n - 1] = 0;
	bytes[t] = 'x';
	expect_refused(bytes, size, -HP_EMD_MALFORMED, "string table not terminated");
	free(bytes);

	bytes = patched(var_name, 0, &size);
	expect_refused(bytes, size, -HP_EMD_MALFORMED, "variable without a name");
	free(bytes);
	bytes = patched(ref0, n, &size);
	expect_refused(bytes, size, -HP_EMD_TRUNC, "string offset out of range");
	free(bytes);
}

/* The second record is the one at fault: its offset is the one named. */
static void test_error_names_the_record(void **state)
{
	(void)state;
	unsigned char *good, *bad, *two;
	size_t size, at;
	const char *why;

	encode(&good, &size);
	bad = patched(FUNC0(entry_offset), 64, &size);
	two = calloc(1, 2 * size + 8);
	assert_non_null(two);
	memcpy(two, good, size);
	memcpy(two + size + 8, bad, size);
	assert_int_equal(next_of(two, 2 * size + 8, &why, &at), -HP_EMD_MALFORMED);
	assert_string_equal(why, "implausible entry offset");
	assert_int_equal(at, size + 8);
	free(two);
	free(bad);
	free(good);
}

static void test_no_section_no_records(void **state)
{
	(void)state;
	struct hp_md_iter it;
	struct hp_md_record rec;
	static const unsigned char zeros[24];

	hp_md_iter_init(&it, NULL, 100);
	assert_int_equal(hp_md_next(&it, &rec), 0);
	hp_md_iter_init(&it, zeros, sizeof(zeros)); /* padding only */
	assert_int_equal(hp_md_next(&it, &rec), 0);
	hp_md_iter_init(&it, zeros, 4); /* less than a padding word */
	assert_int_equal(hp_md_next(&it, &rec), -HP_EMD_TRUNC);
	assert_string_equal(it.why, "truncated header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_functions_and_variables_round_trip),
		cmocka_unit_test(test_integers_little_endian),
		cmocka_unit_test(test_records_concatenated),
		cmocka_unit_test(test_text_holds_the_same_bytes),
		cmocka_unit_test(test_writer_refuses_nameless),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_damaged_fields_refused_with_reason),
		cmocka_unit_test(test_damaged_strings_refused),
		cmocka_unit_test(test_error_names_the_record),
		cmocka_unit_test(test_no_section_no_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
