/* hotpatch keygen and hotpatch verify: the offline side of signing. Both
 * use the package library the runtime uses, so "verify" says exactly what
 * a process with HOTPATCH_TRUSTED_KEYS would decide about the signature. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hp_cli.h"
#include "hp_json.h"
#include "hp_package.h"

int cmd_keygen(int nargs, char **args)
{
	uint8_t pk[HP_PKG_PUBLIC_KEY_SIZE];
	char err[512], pub[4096], id[HP_PKG_KEY_ID_LEN];
	int ret;

	if (nargs != 1 || !args[0][0])
		return usage_error("%s", "usage: hotpatch keygen PREFIX");
	if (snprintf(pub, sizeof(pub), "%s.pub", args[0]) >= (int)sizeof(pub))
		return usage_error("%s", "PREFIX too long");
	ret = hp_pkg_keygen(args[0], err, sizeof(err));
	if (ret)
		return fail("%s", err);
	if (hp_pkg_key_read_public(pub, pk, err, sizeof(err)))
		return fail("%s", err);
	hp_pkg_key_id(pk, id);
	printf("wrote %s.key (secret: keep it private) and %s (public key %s)\n", args[0], pub, id);
	return 0;
}

static void report(const char *pkg, const struct hp_manifest *m, const char *signer, int checked,
		   int json)
{
	if (json) {
		printf("{\"package\":");
		hp_json_str(stdout, pkg);
		printf(",\"name\":");
		hp_json_str(stdout, m->name);
		printf(",\"target\":");
		hp_json_str(stdout, m->target_name);
		printf(",\"functions\":%zu,\"signer\":", m->func_count);
		if (m->signer)
			hp_json_str(stdout, signer);
		else
			fputs("null", stdout);
		printf(",\"trusted\":%s}\n", checked ? "true" : "null");
		return;
	}
	printf("%s: package '%s' for %s, %zu function%s\n", pkg, m->name, m->target_name,
	       m->func_count, m->func_count == 1 ? "" : "s");
	if (!m->signer)
		printf("unsigned\n");
	else if (checked)
		printf("signed by %s: signature valid, key trusted\n", signer);
	else
		printf("signed by %s: signature valid (no key given, so not checked against "
		       "trusted keys)\n",
		       signer);
}

int cmd_verify(int nargs, char **args, int json)
{
	static struct hp_pkg_keyring keys;
	struct hp_manifest *m = NULL;
	const char *pkg = NULL;
	char err[512], id[HP_PKG_KEY_ID_LEN] = "";
	int fd, ret, have_keys = 0;

	for (int i = 0; i < nargs; i++) {
		int is_key = !strcmp(args[i], "--key"), is_dir = !strcmp(args[i], "--keys");

		if (is_key || is_dir) {
			if (i + 1 >= nargs)
				return usage_error("'%s' needs a file", args[i]);
			ret = is_key ? hp_pkg_keyring_add_file(&keys, args[i + 1], err, sizeof(err))
				     : hp_pkg_keyring_load_dir(&keys, args[i + 1], err,
							       sizeof(err));
			if (ret)
				return fail("%s", err);
			have_keys = 1;
			i++;
		} else if (args[i][0] == '-' && args[i][1]) {
			return usage_error("unknown option '%s' for verify", args[i]);
		} else if (pkg) {
			return usage_error(
				"%s", "usage: hotpatch verify PKG [--key PUB]... [--keys DIR]");
		} else {
			pkg = args[i];
		}
	}
	if (!pkg)
		return usage_error("%s", "usage: hotpatch verify PKG [--key PUB]... [--keys DIR]");
	if (have_keys && keys.count == 0)
		return fail("no key file (*.pub) in the directory given with --keys");
	fd = open(pkg, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("cannot open '%s': %m", pkg);
	ret = hp_pkg_read_fd(fd, &m, err, sizeof(err));
	close(fd);
	if (ret)
		return fail("%s: %s", pkg, err);
	if (m->signer)
		hp_pkg_key_id(m->signer, id);
	if (have_keys && hp_pkg_keyring_check(&keys, m, err, sizeof(err))) {
		hp_manifest_free(m);
		return fail("%s: %s", pkg, err);
	}
	report(pkg, m, id, have_keys, json);
	hp_manifest_free(m);
	return 0;
}
