/* Package writer -> reader round trip and every validation rule of the
 * reader. Packages are built in memory around a small linked .so. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hp_package.h"

static const uint8_t build_id[20] = {1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10,
				     11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t code_a[16] = {0x66, 0x90, 0x8d, 0x04, 0x7f, 0xc3};
static const uint8_t code_b[16] = {0xf3, 0x0f, 0x1e, 0xfa, 0x66, 0x90, 0xc3};

struct pkg {
	uint8_t *data;
	size_t size;
	size_t man; /* offset of the manifest */
};

static void build(struct pkg *p)
{
	char out[] = "/tmp/hp-test-pkg-XXXXXX";
	struct hp_pkg_builder *b = hp_pkg_builder_new();
	struct hp_pkg_func_spec fa = {"compute", "a.c", 0x1100, 0x2200, code_a, 16, 0, 0};
	struct hp_pkg_func_spec fb = {"helper", "b.c", 0x1200, 0x2300,
				      code_b,	16,    4,      HP_PKG_FUNC_ENDBR};
	struct hp_pkg_proxy_spec px = {"factor", "a.c", 0x4010, 0x4020};
	struct stat st;
	int fd;

	assert_non_null(b);
	assert_int_equal(hp_pkg_builder_set_target(b, build_id, sizeof(build_id), "engine"), 0);
	assert_int_equal(hp_pkg_builder_set_name(b, "fix-1", "fixes compute"), 0);
	assert_int_equal(hp_pkg_builder_add_func(b, &fa), 0);
	assert_int_equal(hp_pkg_builder_add_func(b, &fb), 0);
	assert_int_equal(hp_pkg_builder_add_proxy(b, &px), 0);
	assert_int_equal(hp_pkg_builder_add_hook(b, HP_PKG_HOOK_POST_APPLY, "refill", 0x2400), 0);
	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hp_pkg_builder_write(b, HP_TEST_BLANK_SO, out), 0);
	hp_pkg_builder_free(b);
	fd = open(out, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p->size = st.st_size;
	p->data = malloc(p->size);
	assert_int_equal(pread(fd, p->data, p->size, 0), (ssize_t)p->size);
	close(fd);
	unlink(out);
	p->man = 0;
	for (size_t i = 0; i + 8 <= p->size; i++)
		if (memcmp(p->data + i, HP_PKG_MAGIC, 8) == 0)
			p->man = i;
	assert_true(p->man > 0);
}

static struct hp_pkg_header_disk *hdr(struct pkg *p)
{
	return (struct hp_pkg_header_disk *)(p->data + p->man);
}

/* Recomputes the checksum after a test edits the manifest, so the rule
 * under test is the one that fires. */
static void reseal(struct pkg *p)
{
	uint64_t zero = 0, sum;

	memcpy(&hdr(p)->checksum, &zero, 8);
	sum = hp_pkg_checksum(p->data, p->size);
	memcpy(&hdr(p)->checksum, &sum, 8);
}

static int read_pkg(struct pkg *p, char *err)
{
	struct hp_manifest *m = NULL;
	int ret = hp_pkg_read_mem(p->data, p->size, &m, err, 256);

	assert_true(ret != 0 || m != NULL);
	hp_manifest_free(m);
	return ret;
}

static void expect(struct pkg *p, int code, const char *text)
{
	char err[256] = "";

	assert_int_equal(read_pkg(p, err), code);
	if (!strstr(err, text))
		fail_msg("error '%s' lacks '%s'", err, text);
	free(p->data);
}

static void test_checksum_vectors(void **state)
{
	assert_true(hp_pkg_checksum("", 0) == 0xcbf29ce484222325ull);
	assert_true(hp_pkg_checksum("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(hp_pkg_checksum("foobar", 6) == 0x85944171f73967e8ull);
}

static void test_round_trip(void **state)
{
	struct hp_manifest *m;
	struct pkg p;
	char err[256];

	build(&p);
	assert_int_equal(hp_pkg_read_mem(p.data, p.size, &m, err, sizeof(err)), 0);
	assert_string_equal(m->name, "fix-1");
	assert_string_equal(m->description, "fixes compute");
	assert_string_equal(m->target_name, "engine");
	assert_int_equal(m->build_id_size, sizeof(build_id));
	assert_memory_equal(m->build_id, build_id, sizeof(build_id));
	assert_int_equal(m->package_size, p.size);
	assert_int_equal(m->func_count, 2);
	assert_string_equal(m->funcs[0].name, "compute");
	assert_string_equal(m->funcs[0].tu, "a.c");
	assert_int_equal(m->funcs[0].target_offset, 0x1100);
	assert_int_equal(m->funcs[0].replacement_offset, 0x2200);
	assert_true(m->funcs[0].expected_hash == hp_pkg_checksum(code_a, 16));
	assert_int_equal(m->funcs[1].entry_offset, 4);
	assert_int_equal(m->funcs[1].flags, HP_PKG_FUNC_ENDBR);
	assert_int_equal(m->proxy_count, 1);
	assert_string_equal(m->proxies[0].name, "factor");
	assert_int_equal(m->proxies[0].slot_offset, 0x4010);
	assert_int_equal(m->proxies[0].target_offset, 0x4020);
	assert_int_equal(m->hook_count, 1);
	assert_string_equal(m->hooks[0].name, "refill");
	assert_int_equal(m->hooks[0].kind, HP_PKG_HOOK_POST_APPLY);
	assert_int_equal(m->hooks[0].offset, 0x2400);
	assert_null(m->signer);
	hp_manifest_free(m);
	free(p.data);
}

/* A package of a writer from before hooks: a 160-byte header. Its reader
 * takes the fields past it as 0. */
static void test_older_header(void **state)
{
	struct hp_manifest *m;
	struct pkg p;
	char err[256];

	build(&p);
	hdr(&p)->header_size = HP_PKG_HEADER_MIN_SIZE;
	reseal(&p);
	assert_int_equal(hp_pkg_read_mem(p.data, p.size, &m, err, sizeof(err)), 0);
	assert_int_equal(m->hook_count, 0);
	assert_int_equal(m->func_count, 2);
	hp_manifest_free(m);
	free(p.data);
}

static void test_hook_table_oob(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->hook_offset = hdr(&p)->manifest_size - 8;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "hook table");
	build(&p);
	hdr(&p)->hook_count = 0x10000000;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "hook table");
}

static void test_hook_kind_and_name(void **state)
{
	struct hp_pkg_hook_disk *k;
	struct pkg p;

	build(&p);
	k = (struct hp_pkg_hook_disk *)(p.data + p.man + hdr(&p)->hook_offset);
	k->kind = 9;
	reseal(&p);
	expect(&p, -HP_EFORMAT, "unknown kind 9");
	build(&p);
	k = (struct hp_pkg_hook_disk *)(p.data + p.man + hdr(&p)->hook_offset);
	k->name = hdr(&p)->strtab_size;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "hook name string offset");
}

static void test_read_fd(void **state)
{
	char path[] = "/tmp/hp-test-fd-XXXXXX", err[256];
	struct hp_manifest *m;
	struct pkg p;
	int fd;

	build(&p);
	fd = mkstemp(path);
	assert_int_equal(write(fd, p.data, p.size), (ssize_t)p.size);
	assert_int_equal(hp_pkg_read_fd(fd, &m, err, sizeof(err)), 0);
	assert_int_equal(m->func_count, 2);
	hp_manifest_free(m);
	close(fd);
	unlink(path);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	assert_int_equal(hp_pkg_read_fd(fd, &m, err, sizeof(err)), -EINVAL);
	close(fd);
	free(p.data);
}

static void test_truncated(void **state)
{
	struct pkg p;

	build(&p);
	p.size -= 64;
	expect(&p, -HP_ETRUNC, "truncated");
	build(&p);
	p.size = p.man + 100; /* cut inside the manifest, headers gone too */
	expect(&p, -HP_ETRUNC, "truncated");
}

static void test_extended(void **state)
{
	struct pkg p;

	build(&p);
	p.data = realloc(p.data, p.size + 1);
	p.data[p.size++] = 0;
	expect(&p, -HP_ETRUNC, "manifest says");
}

static void test_corrupted_byte(void **state)
{
	struct pkg p;

	build(&p);
	p.data[100] ^= 1; /* inside the ELF program headers */
	expect(&p, -HP_ECHECKSUM, "checksum");
	build(&p);
	p.data[p.man + hdr(&p)->strtab_offset + 2] ^= 1; /* a name */
	expect(&p, -HP_ECHECKSUM, "checksum");
}

static void test_wrong_magic(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->magic[0] = 'X';
	reseal(&p);
	expect(&p, -HP_EMAGIC, "magic");
}

static void test_wrong_version(void **state)
{
	struct pkg p;

	build(&p);
	assert_int_equal(hdr(&p)->version, HP_PKG_VERSION); /* it has a hook */
	hdr(&p)->version = HP_PKG_VERSION + 1;
	reseal(&p);
	expect(&p, -HP_EVERSION, "version 3 not supported");
	build(&p);
	hdr(&p)->version = 0;
	reseal(&p);
	expect(&p, -HP_EVERSION, "version 0 not supported");
}

static void test_header_size(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->header_size = 100;
	reseal(&p);
	expect(&p, -HP_EFORMAT, "header size");
}

static void test_not_elf(void **state)
{
	struct pkg p;

	build(&p);
	p.data[1] = 'X';
	expect(&p, -HP_EFORMAT, "not an ELF");
}

static void test_no_manifest(void **state)
{
	struct pkg p;
	int fd = open(HP_TEST_BLANK_SO, O_RDONLY);
	struct stat st;

	assert_true(fd >= 0);
	fstat(fd, &st);
	p.size = st.st_size;
	p.data = malloc(p.size);
	assert_int_equal(pread(fd, p.data, p.size, 0), (ssize_t)p.size);
	close(fd);
	expect(&p, -HP_EFORMAT, "no '.hotpatch.manifest' section");
}

static void test_func_table_oob(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->func_count = 1000;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "function table");
	build(&p);
	hdr(&p)->func_offset = 0xfffffff0;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "function table");
}

static void test_proxy_table_oob(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->proxy_offset = hdr(&p)->manifest_size - 8;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "proxy table");
}

static void test_strtab_oob(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->strtab_size += 4096;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "string table");
	build(&p);
	p.data[p.man + hdr(&p)->strtab_offset + hdr(&p)->strtab_size - 1] = 'x';
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "not terminated");
}

static void test_string_oob(void **state)
{
	struct pkg p;
	struct hp_pkg_func_disk f;
	size_t at;

	build(&p);
	hdr(&p)->name = hdr(&p)->strtab_size;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "patch name string");
	build(&p);
	at = p.man + hdr(&p)->func_offset + sizeof(f);
	memcpy(&f, p.data + at, sizeof(f));
	f.name = 0x7fffffff;
	memcpy(p.data + at, &f, sizeof(f));
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "function name string");
}

static void test_signature_oob(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->flags |= HP_PKG_SIGNED;
	hdr(&p)->signature_offset = hdr(&p)->manifest_size;
	hdr(&p)->signature_size = 64;
	reseal(&p);
	expect(&p, -HP_EBOUNDS, "signature");
}

static void test_build_id_size(void **state)
{
	struct pkg p;

	build(&p);
	hdr(&p)->build_id_size = 65;
	reseal(&p);
	expect(&p, -HP_EFORMAT, "build-id size");
}

static void test_writer_refuses(void **state)
{
	struct hp_pkg_builder *b = hp_pkg_builder_new();
	struct hp_pkg_func_spec f = {"f", "f.c", 0x10, 0x20, code_a, 16, 0, 0};

	assert_int_equal(hp_pkg_builder_set_target(b, build_id, 65, "x"), -EINVAL);
	assert_int_equal(hp_pkg_builder_write(b, HP_TEST_BLANK_SO, "/tmp/hp-never"), -EINVAL);
	assert_non_null(strstr(hp_pkg_builder_error(b), "build-id"));
	assert_int_equal(hp_pkg_builder_set_target(b, build_id, 20, "x"), 0);
	assert_int_equal(hp_pkg_builder_write(b, HP_TEST_BLANK_SO, "/tmp/hp-never"), -EINVAL);
	assert_int_equal(hp_pkg_builder_add_func(b, &f), 0);
	assert_true(hp_pkg_builder_write(b, "/nonexistent/x.so", "/tmp/hp-never") < 0);
	assert_non_null(strstr(hp_pkg_builder_error(b), "/nonexistent/x.so"));
	hp_pkg_builder_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_read_fd),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_extended),
		cmocka_unit_test(test_corrupted_byte),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_header_size),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_no_manifest),
		cmocka_unit_test(test_func_table_oob),
		cmocka_unit_test(test_proxy_table_oob),
		cmocka_unit_test(test_strtab_oob),
		cmocka_unit_test(test_string_oob),
		cmocka_unit_test(test_signature_oob),
		cmocka_unit_test(test_build_id_size),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_older_header),
		cmocka_unit_test(test_hook_table_oob),
		cmocka_unit_test(test_hook_kind_and_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
