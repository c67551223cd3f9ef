/* The .hotpatch reader accepts a well-formed record and turns every damaged
 * one (bad offsets, counts, strings, truncation) into HP_EMALFORMED, with a
 * message naming the record's offset and what is wrong. */
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hp_metadata_format.h"
#include "model.h"

struct rec {
	uint8_t buf[1024];
	size_t size;
	struct hp_md_tu_disk *h;
};

/* One TU, two functions (f inlines g), one variable. */
static void build(struct rec *r)
{
	static const char strs[] = "\0a.c\0/src\0cc\0-c\0f\0g\0v\0";
	memset(r, 0, sizeof(*r));
	struct hp_md_tu_disk h = {
		.magic = "HPMD", .version = HP_MD_VERSION, .header_size = sizeof(h)};
	struct hp_md_func_disk f[2] = {
		{.address = 0x1000,
		 .hash = 1,
		 .name = 16,
		 .flags = HP_MD_FUNC_PATCHABLE,
		 .inlined_first = 0,
		 .inlined_count = 1},
		{.address = 0x2000, .hash = 2, .name = 18, .flags = HP_MD_FUNC_EXTERNAL},
	};
	struct hp_md_var_disk v = {.address = 0x3000, .size = 4, .init_hash = 9, .name = 20};
	uint32_t refs[2] = {18, 0};
	size_t off = sizeof(h);
	h.func_count = 2;
	h.func_offset = (uint32_t)off;
	memcpy(r->buf + off, f, sizeof(f));
	off += sizeof(f);
	h.var_count = 1;
	h.var_offset = (uint32_t)off;
	memcpy(r->buf + off, &v, sizeof(v));
	off += sizeof(v);
	h.ref_count = 1;
	h.ref_offset = (uint32_t)off;
	memcpy(r->buf + off, refs, sizeof(refs));
	off += sizeof(refs);
	h.strtab_offset = (uint32_t)off;
	h.strtab_size = sizeof(strs);
	memcpy(r->buf + off, strs, sizeof(strs));
	off += sizeof(strs);
	off = (off + 7) & ~(size_t)7;
	h.record_size = (uint32_t)off;
	h.source = 1;
	h.cwd = 5;
	h.argc = 2;
	h.argv = 10;
	memcpy(r->buf, &h, sizeof(h));
	r->size = off;
	r->h = (struct hp_md_tu_disk *)r->buf;
}

static int parse(const struct rec *r, size_t size)
{
	struct mp_program p;
	struct mp_diag d;
	memset(&p, 0, sizeof(p));
	int err = mp_metadata_parse(&p, r->buf, size, &d);
	mp_program_release(&p);
	return err;
}

static void test_well_formed(void **state)
{
	(void)state;
	struct rec r;
	build(&r);
	struct mp_program p;
	struct mp_diag d;
	memset(&p, 0, sizeof(p));
	assert_int_equal(mp_metadata_parse(&p, r.buf, r.size, &d), 0);
	assert_int_equal(p.ntus, 1);
	assert_string_equal(p.tus[0].source, "a.c");
	assert_string_equal(p.tus[0].cwd, "/src");
	assert_int_equal(p.tus[0].argc, 2);
	assert_string_equal(p.tus[0].argv[1], "-c");
	assert_int_equal(p.nfuncs, 2);
	assert_string_equal(p.funcs[0].name, "f");
	assert_int_equal(p.funcs[0].ninlined, 1);
	assert_string_equal(p.funcs[0].inlined[0], "g");
	assert_ptr_equal(p.funcs[0].tu, &p.tus[0]);
	assert_ptr_equal(mp_find_func(&p, "f", &p.tus[0]), &p.funcs[0]);
	assert_ptr_equal(mp_find_func(&p, "g", NULL), &p.funcs[1]);
	assert_null(mp_find_func(&p, "f", NULL)); /* local: needs its TU */
	assert_int_equal(p.nvars, 1);
	assert_int_equal(p.vars[0].init_hash, 9);
	mp_program_release(&p);
}

static void test_two_records_and_padding(void **state)
{
	(void)state;
	struct rec r, two;
	build(&r);
	memset(&two, 0, sizeof(two));
	memcpy(two.buf, r.buf, r.size);
	memcpy(two.buf + r.size + 8, r.buf, r.size); /* 8 zero bytes between */
	assert_int_equal(parse(&two, 2 * r.size + 8), 0);
}

static void test_every_truncation_fails(void **state)
{
	(void)state;
	struct rec r;
	build(&r);
	for (size_t n = 1; n < r.size; n++)
		assert_int_equal(parse(&r, n), -HP_EMALFORMED);
	assert_int_equal(parse(&r, 0), 0); /* empty section: no records */
}

#define CORRUPT(field, value)                                                                      \
	do {                                                                                       \
		build(&r);                                                                         \
		r.h->field = value;                                                                \
		assert_int_equal(parse(&r, r.size), -HP_EMALFORMED);                               \
	} while (0)

static void test_bad_header_fields(void **state)
{
	(void)state;
	struct rec r;
	CORRUPT(magic[0], 'X');
	CORRUPT(version, 99);
	CORRUPT(header_size, 8);
	CORRUPT(record_size, 4);
	CORRUPT(record_size, 2000);
	CORRUPT(record_size, r.h->record_size - 1);
	CORRUPT(func_count, 1000000);
	CORRUPT(func_offset, 0xfffffff0);
	CORRUPT(var_count, 0x40000000);
	CORRUPT(ref_count, 0xffffffff);
	CORRUPT(strtab_offset, 0xffffff00);
	CORRUPT(strtab_size, 0);
	CORRUPT(strtab_size, 0xffffffff);
	CORRUPT(source, 9999);
	CORRUPT(argc, 0x7fffffff);
	CORRUPT(argv, 9999);
}

static void test_bad_function_fields(void **state)
{
	(void)state;
	struct rec r;
	struct hp_md_func_disk *f;
	build(&r);
	f = (struct hp_md_func_disk *)(r.buf + r.h->func_offset);
	f->name = 5000;
	assert_int_equal(parse(&r, r.size), -HP_EMALFORMED);
	build(&r);
	f = (struct hp_md_func_disk *)(r.buf + r.h->func_offset);
	f->inlined_first = 0xffffffff;
	assert_int_equal(parse(&r, r.size), -HP_EMALFORMED);
	build(&r);
	f = (struct hp_md_func_disk *)(r.buf + r.h->func_offset);
	f->calls_count = 2;
	assert_int_equal(parse(&r, r.size), -HP_EMALFORMED);
	build(&r);
	uint8_t *strtab = r.buf + r.h->strtab_offset;
	strtab[r.h->strtab_size - 1] = 'x'; /* unterminated */
	assert_int_equal(parse(&r, r.size), -HP_EMALFORMED);
}

/* mkpatch's message for data[0..size). */
static void expect_message(const uint8_t *data, size_t size, const char *want)
{
	struct mp_program p;
	struct mp_diag d;
	memset(&p, 0, sizeof(p));
	memset(&d, 0, sizeof(d));
	assert_int_equal(mp_metadata_parse(&p, data, size, &d), -HP_EMALFORMED);
	assert_string_equal(d.msg, want);
	mp_program_release(&p);
}

static void test_messages_name_offset_and_fault(void **state)
{
	(void)state;
	struct rec r, two;
	char want[128];
	build(&r);
	r.h->magic[0] = 'X';
	expect_message(r.buf, r.size, "malformed .hotpatch record at offset 0: bad magic");
	build(&r);
	r.h->version = 99;
	expect_message(r.buf, r.size, ".hotpatch version 99 not supported (want 1)");
	build(&r);
	expect_message(r.buf, 40, "malformed .hotpatch record at offset 0: truncated header");
	build(&r);
	r.h->strtab_size = 0;
	expect_message(r.buf, r.size,
		       "malformed .hotpatch record at offset 0: string table out of range");
	build(&r);
	r.h->argc = 0x7fffffff;
	expect_message(r.buf, r.size, "malformed .hotpatch record at offset 0: argc out of range");
	/* the second record is at fault */
	build(&r);
	memset(&two, 0, sizeof(two));
	memcpy(two.buf, r.buf, r.size);
	((struct hp_md_func_disk *)(r.buf + r.h->func_offset))->entry_offset = 17;
	memcpy(two.buf + r.size + 8, r.buf, r.size);
	snprintf(want, sizeof(want),
		 "malformed .hotpatch record at offset %zu: implausible entry offset", r.size + 8);
	expect_message(two.buf, 2 * r.size + 8, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_two_records_and_padding),
		cmocka_unit_test(test_every_truncation_fails),
		cmocka_unit_test(test_bad_header_fields),
		cmocka_unit_test(test_bad_function_fields),
		cmocka_unit_test(test_messages_name_offset_and_fault),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
