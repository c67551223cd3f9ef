/* Package signatures: Ed25519 keys, their files, the signed bytes of a
 * package, and the set of keys a verifier trusts.
 *
 * The cryptography is libsodium's; this file only decides what is signed
 * (the whole package with the checksum and the signature bytes taken as
 * zero, hp_package_format.h) and how keys are stored: one text line per
 * file, "hotpatch-ed25519-secret-key HEX" (the 32-byte seed) or
 * "hotpatch-ed25519-public-key HEX", so a key can be read, mailed and
 * diffed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hp_package.h"
#include "hp_pkg_internal.h"

#define SECRET_TAG "hotpatch-ed25519-secret-key"
#define PUBLIC_TAG "hotpatch-ed25519-public-key"
#define KEY_FILE_MAX 512 /* a key line with a comment; more is not a key */

static int crypto_ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		hp_pkg_seterr(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	return 0;
}

void hp_pkg_key_id(const uint8_t public_key[HP_PKG_PUBLIC_KEY_SIZE], char id[HP_PKG_KEY_ID_LEN])
{
	memcpy(id, "ed25519:", 8);
	for (int i = 0; i < 8; i++)
		snprintf(id + 8 + 2 * i, 3, "%02x", public_key[i]);
}

/* ---- key files ---- */

static int write_key_file(const char *path, mode_t mode, const char *tag, const uint8_t *key,
			  char *err, size_t errlen)
{
	char line[sizeof(SECRET_TAG) + 2 * 32 + 2];
	size_t len;
	int fd, ret = 0;

	memcpy(line, tag, strlen(tag));
	len = strlen(tag);
	line[len++] = ' ';
	sodium_bin2hex(line + len, 2 * 32 + 1, key, 32);
	len += 2 * 32;
	line[len++] = '\n';
	/* O_EXCL: a key is never overwritten, and never written through a
	 * link someone left at that name. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = -errno;
		hp_pkg_seterr(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		sodium_memzero(line, sizeof(line));
		return ret;
	}
	errno = 0;
	if (write(fd, line, len) != (ssize_t)len || fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		hp_pkg_seterr(err, errlen, "cannot write '%s': %s", path, strerror(-ret));
	}
	if (close(fd) < 0 && !ret) {
		ret = -errno;
		hp_pkg_seterr(err, errlen, "cannot write '%s': %s", path, strerror(errno));
	}
	if (ret)
		unlink(path);
	sodium_memzero(line, sizeof(line));
	return ret;
}

int hp_pkg_keygen(const char *prefix, char *err, size_t errlen)
{
	uint8_t pk[HP_PKG_PUBLIC_KEY_SIZE], sk[HP_PKG_SECRET_KEY_SIZE], seed[32];
	char *key_path = NULL, *pub_path = NULL;
	int ret;

	if ((ret = crypto_ready(err, errlen)))
		return ret;
	if (asprintf(&key_path, "%s.key", prefix) < 0 ||
	    asprintf(&pub_path, "%s.pub", prefix) < 0) {
		free(key_path);
		hp_pkg_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	crypto_sign_keypair(pk, sk);
	crypto_sign_ed25519_sk_to_seed(seed, sk);
	ret = write_key_file(key_path, 0600, SECRET_TAG, seed, err, errlen);
	if (!ret) {
		ret = write_key_file(pub_path, 0644, PUBLIC_TAG, pk, err, errlen);
		if (ret)
			unlink(key_path);
	}
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(seed, sizeof(seed));
	free(key_path);
	free(pub_path);
	return ret;
}

/* Reads the one line of a key file open on fd and decodes the 32 bytes
 * after tag. Anything after the hex (a comment) is allowed after a
 * blank. */
static int parse_key_file(int fd, const char *path, const char *tag, uint8_t key[32], char *err,
			  size_t errlen)
{
	char buf[KEY_FILE_MAX + 1];
	size_t tag_len = strlen(tag), bin_len = 0, done = 0;
	const char *hex_end;
	ssize_t n;
	int ret = 0;

	while (done < KEY_FILE_MAX && (n = read(fd, buf + done, KEY_FILE_MAX - done)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			hp_pkg_seterr(err, errlen, "cannot read '%s': %s", path, strerror(errno));
			goto wipe;
		}
		done += n;
	}
	buf[done] = 0;
	if (done < tag_len + 1 + 64 || memcmp(buf, tag, tag_len) != 0 || buf[tag_len] != ' ' ||
	    sodium_hex2bin(key, 32, buf + tag_len + 1, 64, NULL, &bin_len, &hex_end) != 0 ||
	    bin_len != 32 || (*hex_end && !strchr(" \t\r\n", *hex_end))) {
		hp_pkg_seterr(err, errlen, "'%s' is not a hotpatch %s key file (want \"%s HEX\")",
			      path, strcmp(tag, SECRET_TAG) ? "public" : "secret", tag);
		ret = -EINVAL;
	}
wipe:
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

/* Opens a key file without following a link at its name. */
static int open_key(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		int ret = -errno;

		hp_pkg_seterr(err, errlen, "cannot open key '%s': %s", path,
			      errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return ret;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		hp_pkg_seterr(err, errlen, "key '%s' is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int hp_pkg_key_read_secret(const char *path, uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE], char *err,
			   size_t errlen)
{
	uint8_t seed[32], pk[HP_PKG_PUBLIC_KEY_SIZE];
	struct stat st;
	int fd, ret;

	if ((ret = crypto_ready(err, errlen)))
		return ret;
	fd = open_key(path, &st, err, errlen);
	if (fd < 0)
		return fd;
	/* As ssh does: a secret others could read is refused, not used. */
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		hp_pkg_seterr(err, errlen,
			      "secret key '%s' must belong to uid %u and be private "
			      "(mode %04o; chmod 600 it)",
			      path, (unsigned)geteuid(), (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	ret = parse_key_file(fd, path, SECRET_TAG, seed, err, errlen);
	close(fd);
	if (!ret)
		crypto_sign_seed_keypair(pk, secret_key, seed);
	sodium_memzero(seed, sizeof(seed));
	return ret;
}

int hp_pkg_key_read_public(const char *path, uint8_t public_key[HP_PKG_PUBLIC_KEY_SIZE], char *err,
			   size_t errlen)
{
	struct stat st;
	int fd = open_key(path, &st, err, errlen), ret;

	if (fd < 0)
		return fd;
	ret = parse_key_file(fd, path, PUBLIC_TAG, public_key, err, errlen);
	close(fd);
	return ret;
}

/* ---- the signed bytes ---- */

/* The package as signed: a copy with the checksum and the signature bytes
 * zeroed. Packages are small, so the copy costs less than a streaming
 * (pre-hashed) variant of Ed25519 would complicate. */
static uint8_t *signed_copy(const uint8_t *file, size_t size, size_t csum_at, size_t sig_at)
{
	uint8_t *copy = malloc(size);

	if (!copy)
		return NULL;
	memcpy(copy, file, size);
	memset(copy + csum_at, 0, sizeof(uint64_t));
	memset(copy + sig_at + offsetof(struct hp_pkg_signature_disk, signature), 0,
	       HP_PKG_SIGNATURE_SIZE);
	return copy;
}

int hp_pkg_sign_file(uint8_t *file, size_t size, size_t csum_at, size_t sig_at,
		     const uint8_t *secret_key)
{
	struct hp_pkg_signature_disk sig = {.algorithm = HP_PKG_SIG_ED25519};
	uint8_t *copy;

	if (sodium_init() < 0)
		return -EIO;
	memcpy(sig.public_key, secret_key + 32, sizeof(sig.public_key));
	memcpy(file + sig_at, &sig, sizeof(sig));
	copy = signed_copy(file, size, csum_at, sig_at);
	if (!copy)
		return -ENOMEM;
	crypto_sign_detached(sig.signature, NULL, copy, size, secret_key);
	free(copy);
	memcpy(file + sig_at, &sig, sizeof(sig));
	return 0;
}

int hp_pkg_verify_file(const uint8_t *file, size_t size, size_t csum_at, size_t sig_at,
		       uint32_t sig_size, uint8_t *signer, char *err, size_t errlen)
{
	struct hp_pkg_signature_disk sig;
	uint8_t *copy;
	int ok;

	if (sig_size != sizeof(sig)) {
		hp_pkg_seterr(err, errlen, "signature of %u bytes, expected %zu", sig_size,
			      sizeof(sig));
		return -HP_EFORMAT;
	}
	memcpy(&sig, file + sig_at, sizeof(sig));
	if (sig.algorithm != HP_PKG_SIG_ED25519 || sig.reserved != 0) {
		hp_pkg_seterr(err, errlen, "signature algorithm %u not supported (Ed25519 is %u)",
			      sig.algorithm, HP_PKG_SIG_ED25519);
		return -HP_EFORMAT;
	}
	if (crypto_ready(err, errlen))
		return -EIO;
	copy = signed_copy(file, size, csum_at, sig_at);
	if (!copy) {
		hp_pkg_seterr(err, errlen, "out of memory checking the signature");
		return -ENOMEM;
	}
	ok = crypto_sign_verify_detached(sig.signature, copy, size, sig.public_key) == 0;
	free(copy);
	if (!ok) {
		char id[HP_PKG_KEY_ID_LEN];

		hp_pkg_key_id(sig.public_key, id);
		hp_pkg_seterr(err, errlen,
			      "signature by %s does not verify: the package was changed after "
			      "it was signed",
			      id);
		return -HP_ESIGNATURE;
	}
	memcpy(signer, sig.public_key, HP_PKG_PUBLIC_KEY_SIZE);
	return 0;
}

/* ---- trusted keys ---- */

static int keyring_add(struct hp_pkg_keyring *kr, const uint8_t key[32], const char *path,
		       char *err, size_t errlen)
{
	for (size_t i = 0; i < kr->count; i++)
		if (memcmp(kr->keys[i], key, 32) == 0)
			return 0;
	if (kr->count == HP_PKG_KEYRING_MAX) {
		hp_pkg_seterr(err, errlen, "more than %d trusted keys (at '%s')",
			      HP_PKG_KEYRING_MAX, path);
		return -E2BIG;
	}
	memcpy(kr->keys[kr->count++], key, 32);
	return 0;
}

int hp_pkg_keyring_add_file(struct hp_pkg_keyring *kr, const char *path, char *err, size_t errlen)
{
	uint8_t key[HP_PKG_PUBLIC_KEY_SIZE];
	int ret = hp_pkg_key_read_public(path, key, err, errlen);

	return ret ? ret : keyring_add(kr, key, path, err, errlen);
}

/* Root's, or ours, and no one else may write it. */
static int owned_safely(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & 022);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

int hp_pkg_keyring_load_dir(struct hp_pkg_keyring *kr, const char *dir, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd, ret = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		hp_pkg_seterr(err, errlen, "cannot open trusted-key directory '%s': %s", dir,
			      errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return ret;
	}
	if (fstat(dfd, &st) < 0 || !owned_safely(&st)) {
		hp_pkg_seterr(err, errlen,
			      "trusted-key directory '%s' must belong to root or uid %u and be "
			      "writable by no one else",
			      dir, (unsigned)geteuid());
		close(dfd);
		return -EPERM;
	}
	d = fdopendir(dfd);
	if (!d) {
		ret = -errno;
		close(dfd);
		hp_pkg_seterr(err, errlen, "cannot read '%s': %s", dir, strerror(-ret));
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		uint8_t key[HP_PKG_PUBLIC_KEY_SIZE];
		char path[4096];
		int fd;

		if (!ends_with(de->d_name, ".pub"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			ret = -errno;
			hp_pkg_seterr(err, errlen, "cannot open key '%s': %s", path,
				      errno == ELOOP ? "it is a symbolic link" : strerror(errno));
			break;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !owned_safely(&st)) {
			hp_pkg_seterr(err, errlen,
				      "trusted key '%s' must be a regular file of root or uid %u, "
				      "writable by no one else",
				      path, (unsigned)geteuid());
			ret = -EPERM;
		} else {
			ret = parse_key_file(fd, path, PUBLIC_TAG, key, err, errlen);
			if (!ret)
				ret = keyring_add(kr, key, path, err, errlen);
		}
		close(fd);
	}
	closedir(d);
	return ret;
}

int hp_pkg_keyring_check(const struct hp_pkg_keyring *kr, const struct hp_manifest *m, char *err,
			 size_t errlen)
{
	char id[HP_PKG_KEY_ID_LEN];

	if (!m->signer) {
		hp_pkg_seterr(err, errlen,
			      "package is unsigned, and only packages signed by a trusted key "
			      "are accepted");
		return -HP_EUNTRUSTED;
	}
	for (size_t i = 0; i < kr->count; i++)
		if (memcmp(kr->keys[i], m->signer, HP_PKG_PUBLIC_KEY_SIZE) == 0)
			return 0;
	hp_pkg_key_id(m->signer, id);
	hp_pkg_seterr(err, errlen,
		      "package is signed by %s, which is not one of the %zu trusted keys", id,
		      kr->count);
	return -HP_EUNTRUSTED;
}
