/* hp-test-mkpkg: builds a package the way mkpatch will, for the runtime's
 * tests (mkpatch is developed in parallel and must not be a dependency).
 *
 *   hp-test-mkpkg OLD PATCH.so OUT [--name N] [--func SYM[=REPL]]...
 *                 [--proxy SLOT=TARGET]... [--bad-build-id] [--bad-hash]
 *                 [--target-delta N] [--proxy-target ADDR] [--replacement-at ADDR]
 *                 [--sign KEY]
 *
 * The --bad-* and override options produce packages that are well formed
 * but must be refused at apply time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_package.h"
#include "hp_test_elf.h"

static int die(const char *msg, const char *arg)
{
	fprintf(stderr, "hp-test-mkpkg: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	return 1;
}

static int add_func(struct hp_pkg_builder *b, const char *old, const char *so, char *spec,
		    long long delta, int bad_hash, long long repl_at)
{
	static const unsigned char endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	char *repl = strchr(spec, '=');
	struct hp_test_sym t, r;
	unsigned char *bytes;
	struct hp_pkg_func_spec f = {0};
	int ret;

	if (repl)
		*repl++ = 0;
	else
		repl = spec;
	if (hp_test_elf_sym(old, spec, &t) || t.size < 2)
		return die("no such function in OLD", spec);
	if (hp_test_elf_sym(so, repl, &r))
		return die("no such function in the patch", repl);
	bytes = malloc(t.size);
	if (!bytes || hp_test_elf_bytes(old, t.value, bytes, t.size))
		return die("cannot read code of", spec);
	f.name = spec;
	f.tu = "test.c";
	f.target_offset = t.value + delta;
	f.replacement_offset = repl_at >= 0 ? (uint64_t)repl_at : r.value;
	f.expected_bytes = bytes;
	f.expected_size = t.size;
	if (t.size >= 6 && memcmp(bytes, endbr, 4) == 0) {
		f.entry_offset = 4;
		f.flags = HP_PKG_FUNC_ENDBR;
	}
	if (bad_hash)
		bytes[t.size - 1] ^= 0xff;
	ret = hp_pkg_builder_add_func(b, &f);
	free(bytes);
	return ret ? die("cannot add function", spec) : 0;
}

static int add_proxy(struct hp_pkg_builder *b, const char *old, const char *so, char *spec,
		     long long target_override)
{
	char *target = strchr(spec, '=');
	struct hp_test_sym s, t;
	struct hp_pkg_proxy_spec p = {0};

	if (!target)
		return die("--proxy wants SLOT=TARGET", spec);
	*target++ = 0;
	if (hp_test_elf_sym(so, spec, &s))
		return die("no such slot in the patch", spec);
	if (hp_test_elf_sym(old, target, &t))
		return die("no such symbol in OLD", target);
	p.name = target;
	p.tu = "test.c";
	p.slot_offset = s.value;
	p.target_offset = target_override >= 0 ? (uint64_t)target_override : t.value;
	return hp_pkg_builder_add_proxy(b, &p) ? die("cannot add proxy", spec) : 0;
}

int main(int argc, char **argv)
{
	const char *old, *so, *out, *name = "test-patch", *sign = NULL;
	uint8_t secret[HP_PKG_SECRET_KEY_SIZE];
	char why[512];
	struct hp_pkg_builder *b;
	uint8_t id[64];
	long long delta = 0, proxy_target = -1, repl_at = -1;
	int idlen, bad_id = 0, bad_hash = 0, ret = 0;

	if (argc < 4)
		return die("usage: hp-test-mkpkg OLD PATCH.so OUT [options]", NULL);
	old = argv[1];
	so = argv[2];
	out = argv[3];
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--bad-build-id"))
			bad_id = 1;
		else if (!strcmp(argv[i], "--bad-hash"))
			bad_hash = 1;
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--target-delta") && i + 1 < argc)
			delta = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--proxy-target") && i + 1 < argc)
			proxy_target = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--replacement-at") && i + 1 < argc)
			repl_at = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--sign") && i + 1 < argc)
			sign = argv[++i];
		else if (strcmp(argv[i], "--func") && strcmp(argv[i], "--proxy"))
			return die("unknown option", argv[i]);
		else if (i + 1 >= argc)
			return die("missing value for", argv[i]);
		else
			i++;
	}
	idlen = hp_test_elf_build_id(old, id);
	if (idlen <= 0)
		return die("OLD has no build-id", old);
	if (bad_id)
		id[0] ^= 0xff;
	b = hp_pkg_builder_new();
	if (!b || hp_pkg_builder_set_target(b, id, idlen, old) ||
	    hp_pkg_builder_set_name(b, name, "built by hp-test-mkpkg"))
		return die("cannot start the package", NULL);
	if (sign && (hp_pkg_key_read_secret(sign, secret, why, sizeof(why)) ||
		     hp_pkg_builder_set_signing_key(b, secret)))
		return die(why, sign);
	for (int i = 4; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "--func"))
			ret = add_func(b, old, so, argv[++i], delta, bad_hash, repl_at);
		else if (!strcmp(argv[i], "--proxy"))
			ret = add_proxy(b, old, so, argv[++i], proxy_target);
		else if (!strcmp(argv[i], "--name") || !strcmp(argv[i], "--target-delta") ||
			 !strcmp(argv[i], "--proxy-target") ||
			 !strcmp(argv[i], "--replacement-at") || !strcmp(argv[i], "--sign"))
			i++;
	}
	if (!ret && hp_pkg_builder_write(b, so, out))
		ret = die(hp_pkg_builder_error(b), out);
	hp_pkg_builder_free(b);
	return ret;
}
