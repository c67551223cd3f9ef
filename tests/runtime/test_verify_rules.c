/* Each verification rule of hp_verify.c on its own, against code and
 * manifests made up here: every rule accepts what is right and refuses,
 * with its code and a one-line reason naming the function, each way of
 * being wrong. (test_verify.c drives the same rules through whole
 * applies.) */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hp_core.h"

#define NOP5 0x9090909090ull

static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};

/* A plain prepared function: 2-byte NOP entry, then ret-ish bytes. */
static uint8_t plain[16] = {0x66, 0x90, 0x8d, 0x04, 0xff, 0xc3};
/* One with endbr64 first. */
static uint8_t with_endbr[16] = {0xf3, 0x0f, 0x1e, 0xfa, 0x66, 0x90, 0x8d, 0x04, 0xff, 0xc3};

static struct hp_manifest_func func_for(const uint8_t *code, size_t size, int endbr64)
{
	return (struct hp_manifest_func){
		.name = "fn",
		.tu = "fn.c",
		.target_offset = 0x1008,
		.expected_hash = hp_pkg_checksum(code, size),
		.expected_size = (uint32_t)size,
		.entry_offset = endbr64 ? 4 : 0,
		.flags = endbr64 ? HP_PKG_FUNC_ENDBR : 0,
	};
}

static void expect(int got, int want, const char *err, const char *text)
{
	assert_int_equal(got, want);
	if (!want)
		return;
	if (!strstr(err, text))
		fail_msg("reason '%s' lacks '%s'", err, text);
	assert_non_null(strstr(err, "'fn'"));
	assert_null(strchr(err, '\n'));
}

static void test_entry_layout(void **state)
{
	struct hp_manifest_func f = func_for(plain, sizeof(plain), 0);
	char err[256] = "";

	(void)state;
	expect(hp_rule_entry_layout(&f, err, sizeof(err)), 0, err, "");
	f.entry_offset = 4; /* says endbr64 room without the flag */
	expect(hp_rule_entry_layout(&f, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "do not fit its endbr64 flag");
	f = func_for(with_endbr, sizeof(with_endbr), 1);
	expect(hp_rule_entry_layout(&f, err, sizeof(err)), 0, err, "");
	f.expected_size = 5; /* the entry's 2 bytes do not fit */
	expect(hp_rule_entry_layout(&f, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "expected size 5");
}

static void test_in_image(void **state)
{
	struct hp_image img = {.bias = 0x400000, .name = "prog", .nseg = 2};
	struct hp_manifest_func f = func_for(plain, sizeof(plain), 0);
	char err[256] = "";

	(void)state;
	img.seg[0] = (struct hp_segment){.vaddr = 0x1000, .memsz = 0x1000, .flags = PF_R | PF_X};
	img.seg[1] = (struct hp_segment){.vaddr = 0x3000, .memsz = 0x1000, .flags = PF_R | PF_W};
	expect(hp_rule_in_image(&f, &img, err, sizeof(err)), 0, err, "");
	f.target_offset = 0x3008; /* data, not code */
	expect(hp_rule_in_image(&f, &img, err, sizeof(err)), -HP_EOUTSIDE, err,
	       "outside the executable segments of prog");
	f.target_offset = 0x1ff8; /* runs past the end of the code */
	expect(hp_rule_in_image(&f, &img, err, sizeof(err)), -HP_EOUTSIDE, err, "0x1ff8");
	f.target_offset = 4; /* no room for the padding before it */
	expect(hp_rule_in_image(&f, &img, err, sizeof(err)), -HP_EOUTSIDE, err, "outside");
}

static void test_aligned(void **state)
{
	struct hp_manifest_func f = func_for(plain, sizeof(plain), 0);
	char err[256] = "";

	(void)state;
	/* 8 NOPs before an aligned entry; 5 NOPs at 0 mod 8, the entry after */
	expect(hp_rule_aligned(&f, 0x401008, err, sizeof(err)), 0, err, "");
	expect(hp_rule_aligned(&f, 0x401005, err, sizeof(err)), 0, err, "");
	/* the padding, or the entry, across two quadwords */
	expect(hp_rule_aligned(&f, 0x40100c, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "spans two aligned quadwords");
	expect(hp_rule_aligned(&f, 0x401007, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "spans two");
	/* endbr64 first: the entry 4 bytes on, in the next quadword */
	f = func_for(with_endbr, sizeof(with_endbr), 1);
	expect(hp_rule_aligned(&f, 0x401005, err, sizeof(err)), 0, err, "");
	expect(hp_rule_aligned(&f, 0x401003, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "spans two");
}

/* The stores of apply, on a copy of each layout: the padding jump and the
 * entry jump go into their quadwords and leave every other byte alone. */
static void test_quad_stores(void **state)
{
	static const uint8_t body[4] = {0x50, 0x89, 0xf8, 0xc3};
	_Alignas(8) uint8_t code[24];
	(void)state;
	for (unsigned sym = 5; sym <= 8; sym += 3) {
		uintptr_t at = (uintptr_t)code + sym;
		uint8_t want[24];

		memset(code, 0xcc, sizeof(code));
		memset(code + sym - 5, 0x90, 5);
		code[sym] = 0x66, code[sym + 1] = 0x90;
		memcpy(code + sym + 2, body, sizeof(body));
		assert_true(hp_in_one_quad(at - HP_PAD_BYTES, HP_PAD_BYTES));
		assert_true(hp_in_one_quad(at, 2));
		assert_int_equal(hp_load_in_quad(at - HP_PAD_BYTES, HP_PAD_BYTES), NOP5);
		assert_int_equal(hp_load_in_quad(at, 2), 0x9066);
		memcpy(want, code, sizeof(want));
		hp_store_in_quad(at - HP_PAD_BYTES, 0x44332211e9ull, HP_PAD_BYTES);
		memcpy(want + sym - 5, "\xe9\x11\x22\x33\x44", 5);
		assert_memory_equal(code, want, sizeof(want));
		hp_store_in_quad(at, 0xf9eb, 2);
		want[sym] = 0xeb, want[sym + 1] = 0xf9;
		assert_memory_equal(code, want, sizeof(want));
		assert_int_equal(hp_load_in_quad(at - HP_PAD_BYTES, HP_PAD_BYTES), 0x44332211e9ull);
		/* revert: entry first, then the padding */
		hp_store_in_quad(at, 0x9066, 2);
		hp_store_in_quad(at - HP_PAD_BYTES, NOP5, HP_PAD_BYTES);
		assert_int_equal(hp_load_in_quad(at, 2), 0x9066);
		assert_int_equal(code[sym + 2], body[0]);
		assert_int_equal(hp_load_in_quad(at - HP_PAD_BYTES, HP_PAD_BYTES), NOP5);
	}
	assert_false(hp_in_one_quad((uintptr_t)code + 4, 5));
	assert_false(hp_in_one_quad((uintptr_t)code + 7, 2));
	assert_true(hp_in_one_quad((uintptr_t)code + 8, 8));
	assert_false(hp_in_one_quad((uintptr_t)code + 9, 8));
}

/* One switch through the whole write sequence on a heap copy of a site:
 * how many times the cores were serialised. */
static unsigned long commit(struct hp_site *s, uintptr_t to)
{
	struct hp_switch sw = {.site = s, .to = to};
	struct hp_cw cw = {0};
	unsigned long before;
	char err[256] = "";

	assert_int_equal(hp_write_prepare(&sw, 1, !to, &cw, err, sizeof(err)), 0);
	before = hp_sync_count();
	hp_write_commit(&sw, 1);
	hp_cw_finish(&cw);
	if (to)
		s->nlayers++; /* what hp_site_push does after the commit */
	else
		s->nlayers = 0;
	return hp_sync_count() - before;
}

/* A prepared function in code[32] (5 NOPs, the entry's 66 90 at 5, int3
 * after) and its site, unpatched; orig gets a copy of the bytes. */
static void prepared_site(uint8_t *code, struct hp_site *s, uint8_t *orig)
{
	memset(code, 0xcc, 32);
	memset(code, 0x90, 5);
	code[5] = 0x66, code[6] = 0x90;
	memcpy(orig, code, 32);
	*s = (struct hp_site){.sym = (uintptr_t)code + 5,
			      .entry = (uintptr_t)code + 5,
			      .orig_pad = NOP5,
			      .cur_pad = NOP5,
			      .orig_entry = 0x9066,
			      .jmp_entry = 0xf9eb};
}

/* A serialisation only after stores a core must see before going on: an
 * apply's paddings (before entries jump to them) and entries (so the
 * apply is in effect when it returns), a revert's entries; never after a
 * revert restores the paddings, which no entry leads to any more. */
static void test_commit_syncs(void **state)
{
	_Alignas(16) uint8_t code[32];
	uintptr_t sym = (uintptr_t)code + 5;
	struct hp_site s;
	uint8_t orig[32];

	(void)state;
	prepared_site(code, &s, orig);

	assert_int_equal(commit(&s, sym + 0x1000), 2); /* padding, then entry */
	assert_int_equal(hp_load_in_quad(sym - HP_PAD_BYTES, HP_PAD_BYTES),
			 0xe9ull | 0x1000ull << 8);
	assert_int_equal(hp_load_in_quad(sym, 2), 0xf9eb);
	/* a second layer: only its padding changes, the entry jumps already */
	assert_int_equal(commit(&s, sym + 0x2000), 1);
	assert_int_equal(hp_load_in_quad(sym - HP_PAD_BYTES, HP_PAD_BYTES),
			 0xe9ull | 0x2000ull << 8);
	/* back to the original: the entry, serialised; the padding after it */
	assert_int_equal(commit(&s, 0), 1);
	assert_memory_equal(code, orig, sizeof(orig));
	assert_int_equal(s.cur_pad, NOP5);
	/* and applied again: the padding was restored, so it is written again */
	assert_int_equal(commit(&s, sym + 0x1000), 2);
	assert_int_equal(commit(&s, 0), 1);
	assert_memory_equal(code, orig, sizeof(orig));
}

/* Within a rehearsal's slice a revert leaves the padding jumping, so the
 * next apply serialises once (its entry) instead of twice; the slice's end
 * and a child forked during it give the padding its bytes back. */
static void test_slice_keeps_paddings(void **state)
{
	/* static: the registry keeps the site for the rest of the run */
	static _Alignas(16) uint8_t code[32];
	static struct hp_site s;
	uint8_t orig[32];
	uint64_t jump;
	pid_t child;
	int status;

	(void)state;
	prepared_site(code, &s, orig);
	hp_site_link(&s);
	jump = 0xe9ull | 0x1000ull << 8;

	hp_slice_begin();
	assert_int_equal(commit(&s, s.sym + 0x1000), 2);
	assert_int_equal(commit(&s, 0), 1);
	assert_int_equal(hp_load_in_quad(s.sym, 2), 0x9066); /* the entry is back */
	assert_int_equal(hp_load_in_quad(s.sym - HP_PAD_BYTES, HP_PAD_BYTES), jump);
	assert_int_equal(commit(&s, s.sym + 0x1000), 1); /* only the entry */
	assert_int_equal(commit(&s, 0), 1);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		hp_slice_atfork_child();
		_exit(memcmp(code, orig, sizeof(orig)) || s.cur_pad != NOP5 ? 1 : 0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(hp_load_in_quad(s.sym - HP_PAD_BYTES, HP_PAD_BYTES), jump);
	hp_slice_end();
	assert_memory_equal(code, orig, sizeof(orig));
	assert_int_equal(s.cur_pad, NOP5);
	/* outside a slice a revert restores the padding itself */
	assert_int_equal(commit(&s, s.sym + 0x1000), 2);
	assert_int_equal(commit(&s, 0), 1);
	assert_memory_equal(code, orig, sizeof(orig));
}

/* The protection the kernel shows for the page at a ("r-xp"). */
static void page_perms(const void *a, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	strcpy(perms, "?");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char p[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && (uintptr_t)a >= lo &&
		    (uintptr_t)a < hi) {
			strcpy(perms, p);
			break;
		}
	}
	fclose(f);
}

/* A rehearsal's slice keeps the pages writable from one operation to the
 * next, gives them their protection back when it ends, and a child forked
 * in between gets it back at once. */
static void test_hold_pages(void **state)
{
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct hp_cw cw = {0};
	char err[256] = "", perms[5];
	pid_t child;
	int status;

	(void)state;
	assert_true(page != MAP_FAILED);
	/* without a hold: writable for the operation only */
	assert_int_equal(hp_cw_prepare(&cw, (uintptr_t)page + 8, 8, err, sizeof(err)), 0);
	page_perms(page, perms);
	assert_string_equal(perms, "rwxp");
	hp_cw_finish(&cw);
	page_perms(page, perms);
	assert_string_equal(perms, "r-xp");

	hp_cw_hold_begin();
	assert_int_equal(hp_cw_prepare(&cw, (uintptr_t)page + 8, 8, err, sizeof(err)), 0);
	hp_cw_finish(&cw);
	page_perms(page, perms);
	assert_string_equal(perms, "rwxp"); /* still, for the next operation */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		hp_cw_atfork_child();
		page_perms(page, perms);
		_exit(strcmp(perms, "r-xp") ? 1 : 0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	page_perms(page, perms);
	assert_string_equal(perms, "rwxp"); /* the parent's slice goes on */
	hp_cw_hold_end();
	page_perms(page, perms);
	assert_string_equal(perms, "r-xp");
	munmap(page, 4096);
}

static void test_expected_bytes(void **state)
{
	struct hp_manifest_func f = func_for(plain, sizeof(plain), 0);
	uint8_t code[sizeof(plain)];
	char err[256] = "";

	(void)state;
	memcpy(code, plain, sizeof(code));
	expect(hp_rule_expected_bytes(&f, code, err, sizeof(err)), 0, err, "");
	code[sizeof(code) - 1] ^= 1; /* the last byte differs */
	expect(hp_rule_expected_bytes(&f, code, err, sizeof(err)), -HP_EMISMATCH, err,
	       "expected-bytes hash mismatch");
}

static void test_prepared(void **state)
{
	struct hp_manifest_func f = func_for(plain, sizeof(plain), 0);
	uint8_t code[sizeof(with_endbr)];
	char err[256] = "";

	(void)state;
	expect(hp_rule_prepared(&f, plain, NOP5, err, sizeof(err)), 0, err, "");
	/* xchg %ax,%ax (66 90) and nop;nop (90 90) both count */
	memcpy(code, plain, sizeof(plain));
	code[0] = 0x90;
	expect(hp_rule_prepared(&f, code, NOP5, err, sizeof(err)), 0, err, "");
	expect(hp_rule_prepared(&f, plain, NOP5 ^ 1, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "needs 5 NOPs before it");
	code[0] = 0x55; /* push %rbp: built without the plugin */
	expect(hp_rule_prepared(&f, code, NOP5, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "without the hotpatch plugin");
	/* ...unless the package says the compiler's own first instruction is
	 * the entry */
	f.flags |= HP_PKG_FUNC_ENTRY_INSN;
	expect(hp_rule_prepared(&f, code, NOP5, err, sizeof(err)), 0, err, "");
	f = func_for(with_endbr, sizeof(with_endbr), 1);
	expect(hp_rule_prepared(&f, with_endbr, NOP5, err, sizeof(err)), 0, err, "");
	memcpy(code, with_endbr, sizeof(code));
	code[3] = 0xfb; /* endbr32 */
	expect(hp_rule_prepared(&f, code, NOP5, err, sizeof(err)), -HP_ENOTPATCHABLE, err,
	       "after endbr64");
	assert_int_equal(memcmp(with_endbr, endbr, 4), 0);
}

static void test_untouched(void **state)
{
	struct hp_manifest_func f = func_for(plain, sizeof(plain), 0);
	struct hp_site s = {.orig_pad = NOP5,
			    .cur_pad = 0x11223344e9ull,
			    .orig_entry = 0x9066,
			    .jmp_entry = 0xf9eb,
			    .nlayers = 1};
	char err[256] = "";

	(void)state;
	expect(hp_rule_untouched(&f, &s, s.cur_pad, s.jmp_entry, err, sizeof(err)), 0, err, "");
	expect(hp_rule_untouched(&f, &s, s.cur_pad, s.orig_entry, err, sizeof(err)),
	       -HP_ENOTPATCHABLE, err, "modified behind the runtime's back");
	expect(hp_rule_untouched(&f, &s, NOP5, s.jmp_entry, err, sizeof(err)), -HP_ENOTPATCHABLE,
	       err, "behind the runtime's back");
	/* reverted before (no layer): the original entry is what must be there */
	s.nlayers = 0;
	s.cur_pad = NOP5;
	expect(hp_rule_untouched(&f, &s, NOP5, s.orig_entry, err, sizeof(err)), 0, err, "");
	expect(hp_rule_untouched(&f, &s, NOP5, s.jmp_entry, err, sizeof(err)), -HP_ENOTPATCHABLE,
	       err, "behind");
}

static void test_unique_and_proxies(void **state)
{
	struct hp_manifest_func funcs[2] = {func_for(plain, sizeof(plain), 0),
					    func_for(plain, sizeof(plain), 0)};
	struct hp_manifest_proxy proxy = {.name = "counter", .tu = "fn.c", .target_offset = 0x3010};
	struct hp_manifest m = {
		.func_count = 1, .funcs = funcs, .proxy_count = 1, .proxies = &proxy};
	struct hp_image img = {.bias = 0x400000, .name = "prog", .nseg = 1};
	char err[256] = "";

	(void)state;
	img.seg[0] = (struct hp_segment){.vaddr = 0x1000, .memsz = 0x3000, .flags = PF_R};
	expect(hp_rule_unique(&m, err, sizeof(err)), 0, err, "");
	m.func_count = 2; /* the same target twice */
	expect(hp_rule_unique(&m, err, sizeof(err)), -HP_EFORMAT, err, "replaced twice");
	funcs[1].target_offset += 0x40;
	expect(hp_rule_unique(&m, err, sizeof(err)), 0, err, "");
	assert_int_equal(hp_rule_proxies(&m, &img, err, sizeof(err)), 0);
	proxy.target_offset = 0x9000;
	assert_int_equal(hp_rule_proxies(&m, &img, err, sizeof(err)), -HP_EOUTSIDE);
	assert_non_null(strstr(err, "proxy 'counter' (fn.c): target offset 0x9000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_layout),   cmocka_unit_test(test_in_image),
		cmocka_unit_test(test_aligned),	       cmocka_unit_test(test_quad_stores),
		cmocka_unit_test(test_expected_bytes), cmocka_unit_test(test_prepared),
		cmocka_unit_test(test_untouched),      cmocka_unit_test(test_unique_and_proxies),
		cmocka_unit_test(test_commit_syncs),   cmocka_unit_test(test_slice_keeps_paddings),
		cmocka_unit_test(test_hold_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
