/* Every verification rule of hp_apply_fd(), against functions of this very
 * test program. Each package is refused before anything is loaded or
 * written: the code bytes are compared before and after, and no patch may
 * be listed. (No dlopen happens here, so this runs under ASan as well.) */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotpatch/hotpatch.h"
#include "hp_internal.h"
#include "hp_package.h"

int hp_t_target(int x);
int hp_t_plain(int x);

__attribute__((noinline, patchable_function_entry(10, 8), aligned(16))) int hp_t_target(int x)
{
	return x * 7;
}

__attribute__((noinline, patchable_function_entry(0, 0))) int hp_t_plain(int x)
{
	return x * 9;
}

struct self {
	uintptr_t bias;
	uint8_t id[64];
	size_t idlen;
};

static int self_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct self *s = data;

	s->bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;

		if (ph->p_type == PT_NOTE && n->n_type == NT_GNU_BUILD_ID) {
			s->idlen = n->n_descsz;
			memcpy(s->id, p + sizeof(*n) + ((n->n_namesz + 3) & ~3u), s->idlen);
		}
	}
	return 1; /* the main program comes first */
}

/* A package replacing fn, with one knob broken by the caller. */
struct spec {
	void *fn;
	int flip_build_id, flip_expected, endbr_lie, duplicate;
	uint64_t target_delta, proxy_target;
};

static int apply(const struct spec *sp, char *err, size_t errlen)
{
	static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	char path[] = "/tmp/hp-test-verify-XXXXXX";
	struct hp_pkg_builder *b = hp_pkg_builder_new();
	struct self s = {0};
	uint8_t code[24];
	struct hp_pkg_func_spec f = {.name = "fn",
				     .tu = "test_verify.c",
				     .expected_bytes = code,
				     .expected_size = sizeof(code),
				     .replacement_offset = 0x1000};
	struct hp_pkg_proxy_spec px = {.name = "g", .tu = "test_verify.c", .slot_offset = 0x4000};
	int fd, ret;

	dl_iterate_phdr(self_cb, &s);
	assert_true(s.idlen > 0);
	memcpy(code, sp->fn, sizeof(code));
	f.target_offset = (uintptr_t)sp->fn - s.bias + sp->target_delta;
	if (memcmp(code, endbr, 4) == 0) {
		f.entry_offset = 4;
		f.flags = HP_PKG_FUNC_ENDBR;
	}
	if (sp->endbr_lie)
		f.entry_offset ^= 4;
	if (sp->flip_expected)
		code[sizeof(code) - 1] ^= 0xff;
	if (sp->flip_build_id)
		s.id[0] ^= 0xff;
	px.target_offset = sp->proxy_target ? sp->proxy_target : (uintptr_t)&s - s.bias;
	assert_int_equal(hp_pkg_builder_set_target(b, s.id, s.idlen, "test_verify"), 0);
	assert_int_equal(hp_pkg_builder_add_func(b, &f), 0);
	if (sp->duplicate)
		assert_int_equal(hp_pkg_builder_add_func(b, &f), 0);
	if (sp->proxy_target)
		assert_int_equal(hp_pkg_builder_add_proxy(b, &px), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(hp_pkg_builder_write(b, HP_TEST_BLANK_SO, path), 0);
	hp_pkg_builder_free(b);
	ret = hp_apply_fd(fd, NULL, NULL, err, errlen);
	close(fd);
	unlink(path);
	return ret;
}

static void expect_refused(const struct spec *sp, int code, const char *text)
{
	uint8_t before[40], after[40];
	struct hp_list *l;
	char err[512] = "";

	memcpy(before, (uint8_t *)sp->fn - 8, sizeof(before));
	assert_int_equal(apply(sp, err, sizeof(err)), code);
	if (!strstr(err, text))
		fail_msg("error '%s' lacks '%s'", err, text);
	assert_null(strchr(err, '\n'));
	memcpy(after, (uint8_t *)sp->fn - 8, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(hp_list_get(&l), 0);
	assert_int_equal(hp_list_count(l), 0);
	hp_list_free(l);
	assert_int_equal(hp_t_target(3), 21);
}

static void test_build_id_of_another_program(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_target, .flip_build_id = 1}, -HP_ENOTARGET,
		       "is not loaded in this process");
}

static void test_expected_bytes_mismatch(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_target, .flip_expected = 1}, -HP_EMISMATCH,
		       "hash mismatch");
}

static void test_target_not_patchable(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_plain}, -HP_ENOTPATCHABLE, "is not patchable");
}

static void test_endbr_flag_mismatch(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_target, .endbr_lie = 1}, -HP_ENOTPATCHABLE,
		       "endbr64 flag");
}

static void test_target_offset_outside(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_target, .target_delta = 1ull << 40}, -HP_EOUTSIDE,
		       "outside the executable segments");
}

static void test_target_offset_in_data(void **state)
{
	/* Inside the image but not in an executable segment. */
	static int not_code[64];

	expect_refused(
		&(struct spec){.fn = hp_t_target,
			       .target_delta = (uintptr_t)&not_code[8] - (uintptr_t)hp_t_target},
		-HP_EOUTSIDE, "outside the executable segments");
}

static void test_proxy_offset_outside(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_target, .proxy_target = 1ull << 40}, -HP_EOUTSIDE,
		       "proxy 'g'");
}

static void test_duplicate_function(void **state)
{
	expect_refused(&(struct spec){.fn = hp_t_target, .duplicate = 1}, -HP_EFORMAT,
		       "replaced twice");
}

static void test_busy(void **state)
{
	char err[256] = "";

	assert_int_equal(hp_op_begin(), 0);
	assert_int_equal(apply(&(struct spec){.fn = hp_t_target}, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "busy"));
	assert_int_equal(hp_revert(NULL, err, sizeof(err)), -EBUSY);
	hp_op_end();
}

static void test_revert_nothing(void **state)
{
	char err[256] = "";

	assert_int_equal(hp_revert(NULL, err, sizeof(err)), -HP_ENOPATCH);
	assert_int_equal(hp_revert("17", err, sizeof(err)), -HP_ENOPATCH);
	assert_non_null(strstr(err, "'17'"));
}

static void test_strerror(void **state)
{
	assert_string_equal(hp_strerror(-HP_ECHECKSUM), "package checksum mismatch");
	assert_string_equal(hp_strerror(HP_EWX), "kernel refuses writable executable code (W^X)");
	assert_string_equal(hp_strerror(-ENOENT), strerror(ENOENT));
	assert_non_null(hp_strerror(-4200));
	assert_int_equal(HP_EFORMAT, HP_EFORMAT);
	assert_int_equal(HP_EBOUNDS, HP_EBOUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_id_of_another_program),
		cmocka_unit_test(test_expected_bytes_mismatch),
		cmocka_unit_test(test_target_not_patchable),
		cmocka_unit_test(test_endbr_flag_mismatch),
		cmocka_unit_test(test_target_offset_outside),
		cmocka_unit_test(test_target_offset_in_data),
		cmocka_unit_test(test_proxy_offset_outside),
		cmocka_unit_test(test_duplicate_function),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_revert_nothing),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
