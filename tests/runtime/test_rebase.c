/* hp_pkg_rebase(): a shared object moved to a chosen address loads there
 * (glibc maps an ET_DYN at its first PT_LOAD's address when that is free)
 * and works — data pointers, PLT calls into libc, exported symbols; what
 * it cannot move (TLS) and broken files are refused with -ENOTSUP, never a
 * crash. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hp_internal.h"

static uint8_t *slurp(const char *path, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *p;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*size = (size_t)st.st_size;
	return p;
}

static void *load_copy(const uint8_t *bytes, size_t size)
{
	int fd = memfd_create("rebase-test", MFD_CLOEXEC);
	char path[64];
	void *dl;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, size), (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		fail_msg("dlopen: %s", dlerror());
	return dl; /* fd stays open: the loader may look the name up again */
}

static void test_moved_object_loads_there_and_works(void **state)
{
	size_t size;
	uint8_t *bytes = slurp(HP_TEST_REBASE_SO, &size);
	uint64_t lo, len, align;
	struct link_map *lm;
	uintptr_t where;
	void *dl;

	(void)state;
	assert_int_equal(hp_pkg_extent(bytes, size, &lo, &len, &align), 0);
	assert_int_equal(lo, 0);
	assert_true(len >= 4096 && len % 4096 == 0);
	/* somewhere free, chosen the way the runtime does */
	where = hp_map_near((uintptr_t)&test_moved_object_loads_there_and_works,
			    (uintptr_t)&test_moved_object_loads_there_and_works, len, align,
			    PROT_NONE);
	assert_true(where != 0);
	assert_int_equal(hp_pkg_rebase(bytes, size, where - lo), 0);
	munmap((void *)where, len);
	dl = load_copy(bytes, size);
	assert_int_equal(dlinfo(dl, RTLD_DI_LINKMAP, &lm), 0);
	/* at the moved address: the loader needed no bias at all */
	assert_int_equal(lm->l_addr, 0);
	int (*answer)(void) = (int (*)(void))dlsym(dl, "rebase_answer");
	size_t (*length)(const char *) = (size_t(*)(const char *))dlsym(dl, "rebase_length");
	int **pointer = dlsym(dl, "rebase_pointer");
	int *value = dlsym(dl, "rebase_value");

	assert_non_null(answer);
	assert_non_null(length);
	assert_true((uintptr_t)answer >= where && (uintptr_t)answer < where + len);
	assert_ptr_equal(*pointer, value);
	assert_int_equal(answer(), 42);
	assert_int_equal(length("four"), 8);
	free(bytes);
}

static void test_tls_is_refused(void **state)
{
	size_t size;
	uint8_t *bytes = slurp(HP_TEST_REBASE_TLS_SO, &size);

	(void)state;
	assert_int_equal(hp_pkg_rebase(bytes, size, 1ull << 32), -ENOTSUP);
	free(bytes);
}

/* Every truncation and a sweep of damaged bytes: refused or moved, never
 * a crash (ASan runs this too). */
static void test_broken_files_never_crash(void **state)
{
	size_t size;
	uint8_t *bytes = slurp(HP_TEST_REBASE_SO, &size), *copy = malloc(size);
	uint64_t lo, len, align;
	size_t refused = 0;

	(void)state;
	assert_non_null(copy);
	for (size_t cut = 0; cut < size; cut += cut < 4096 ? 1 : 97) {
		memcpy(copy, bytes, cut);
		refused += hp_pkg_rebase(copy, cut, 1ull << 32) == -ENOTSUP;
		(void)hp_pkg_extent(copy, cut, &lo, &len, &align);
	}
	assert_true(refused > 0);
	assert_int_equal(hp_pkg_rebase(copy, 10, 4096), -ENOTSUP);
	for (size_t at = 0; at < size && at < 8192; at++) {
		memcpy(copy, bytes, size);
		copy[at] ^= 0xa5;
		(void)hp_pkg_rebase(copy, size, 1ull << 32);
		(void)hp_pkg_extent(copy, size, &lo, &len, &align);
	}
	free(copy);
	free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moved_object_loads_there_and_works),
		cmocka_unit_test(test_tls_is_refused),
		cmocka_unit_test(test_broken_files_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
