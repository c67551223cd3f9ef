/* Package reader: validates a package file completely before the runtime
 * acts on any of it, then decodes the manifest into hp_manifest. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hp_package.h"
#include "hp_pkg_internal.h"

/* Packages are small (code of a few functions); the cap keeps a hostile
 * size field from making the engine allocate without bound. */
#define HP_PKG_MAX_SIZE (256u << 20)

struct manifest_view {
	const uint8_t *base; /* start of the manifest */
	uint32_t size;
	struct hp_pkg_header_disk hdr;
	int is_signed;
	uint8_t signer[HP_PKG_PUBLIC_KEY_SIZE]; /* when is_signed: verified */
};

static int range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Strings are checked once (the table ends in NUL), so any offset below
 * strtab_size names a terminated string. */
static int check_str(const struct manifest_view *v, uint32_t off, const char *what, char *err,
		     size_t errlen)
{
	if (off < v->hdr.strtab_size)
		return 0;
	hp_pkg_seterr(err, errlen, "%s string offset %u outside the string table (%u bytes)", what,
		      off, v->hdr.strtab_size);
	return -HP_EBOUNDS;
}

static int check_header(const uint8_t *file, size_t size, uint64_t sec_off, uint64_t sec_len,
			struct manifest_view *v, char *err, size_t errlen, int known)
{
	struct hp_pkg_header_disk *h = &v->hdr;

	if (sec_len < HP_PKG_HEADER_MIN_SIZE) {
		hp_pkg_seterr(err, errlen, "manifest truncated: %llu bytes, header needs %u",
			      (unsigned long long)sec_len, HP_PKG_HEADER_MIN_SIZE);
		return -HP_ETRUNC;
	}
	memset(h, 0, sizeof(*h));
	memcpy(h, file + sec_off, HP_PKG_HEADER_MIN_SIZE);
	v->base = file + sec_off;
	if (memcmp(h->magic, HP_PKG_MAGIC, sizeof(h->magic)) != 0) {
		hp_pkg_seterr(err, errlen, "bad manifest magic: not a hotpatch package");
		return -HP_EMAGIC;
	}
	if (h->version < HP_PKG_VERSION_NO_HOOKS || h->version > HP_PKG_VERSION) {
		hp_pkg_seterr(err, errlen,
			      "manifest version %u not supported (this runtime reads %u to %u)",
			      h->version, HP_PKG_VERSION_NO_HOOKS, HP_PKG_VERSION);
		return -HP_EVERSION;
	}
	if (h->header_size < HP_PKG_HEADER_MIN_SIZE || h->header_size > h->manifest_size) {
		hp_pkg_seterr(err, errlen, "bad manifest header size %u", h->header_size);
		return -HP_EFORMAT;
	}
	if (h->manifest_size > sec_len) {
		hp_pkg_seterr(err, errlen, "manifest truncated: says %u bytes, section has %llu",
			      h->manifest_size, (unsigned long long)sec_len);
		return -HP_ETRUNC;
	}
	/* The fields past the minimum that this header has; an older
	 * writer's shorter header leaves them 0. */
	memcpy(h, file + sec_off, h->header_size < sizeof(*h) ? h->header_size : sizeof(*h));
	if (h->package_size != size) {
		hp_pkg_seterr(
			err, errlen,
			"package truncated or extended: file has %zu bytes, manifest says %llu",
			size, (unsigned long long)h->package_size);
		return -HP_ETRUNC;
	}
	if (!known && hp_pkg_file_checksum(file, size,
					   sec_off + offsetof(struct hp_pkg_header_disk,
							      checksum)) != h->checksum) {
		hp_pkg_seterr(err, errlen, "checksum mismatch: package is damaged");
		return -HP_ECHECKSUM;
	}
	v->size = h->manifest_size;
	return 0;
}

static int check_tables(const struct manifest_view *v, char *err, size_t errlen)
{
	const struct hp_pkg_header_disk *h = &v->hdr;

	if (!range_ok(h->func_offset, (uint64_t)h->func_count * sizeof(struct hp_pkg_func_disk),
		      v->size)) {
		hp_pkg_seterr(err, errlen, "function table (%u entries at %u) outside the manifest",
			      h->func_count, h->func_offset);
		return -HP_EBOUNDS;
	}
	if (!range_ok(h->proxy_offset, (uint64_t)h->proxy_count * sizeof(struct hp_pkg_proxy_disk),
		      v->size)) {
		hp_pkg_seterr(err, errlen, "proxy table (%u entries at %u) outside the manifest",
			      h->proxy_count, h->proxy_offset);
		return -HP_EBOUNDS;
	}
	if (!range_ok(h->hook_offset, (uint64_t)h->hook_count * sizeof(struct hp_pkg_hook_disk),
		      v->size)) {
		hp_pkg_seterr(err, errlen, "hook table (%u entries at %u) outside the manifest",
			      h->hook_count, h->hook_offset);
		return -HP_EBOUNDS;
	}
	for (uint32_t i = 0; i < h->hook_count; i++) {
		struct hp_pkg_hook_disk k;

		memcpy(&k, v->base + h->hook_offset + (size_t)i * sizeof(k), sizeof(k));
		if (k.kind < HP_PKG_HOOK_PRE_APPLY || k.kind > HP_PKG_HOOK_POST_REVERT) {
			hp_pkg_seterr(err, errlen, "hook %u has unknown kind %u", i, k.kind);
			return -HP_EFORMAT;
		}
	}
	if (h->strtab_size == 0 || !range_ok(h->strtab_offset, h->strtab_size, v->size) ||
	    v->base[h->strtab_offset] != 0 || v->base[h->strtab_offset + h->strtab_size - 1] != 0) {
		hp_pkg_seterr(err, errlen, "string table outside the manifest or not terminated");
		return -HP_EBOUNDS;
	}
	if ((h->flags & HP_PKG_SIGNED) &&
	    !range_ok(h->signature_offset, h->signature_size, v->size)) {
		hp_pkg_seterr(err, errlen, "signature outside the manifest");
		return -HP_EBOUNDS;
	}
	if (h->build_id_size == 0 || h->build_id_size > HP_PKG_BUILD_ID_MAX) {
		hp_pkg_seterr(err, errlen, "bad target build-id size %u", h->build_id_size);
		return -HP_EFORMAT;
	}
	if (h->func_count == 0) {
		hp_pkg_seterr(err, errlen, "package replaces no function");
		return -HP_EFORMAT;
	}
	return 0;
}

static int check_strings(const struct manifest_view *v, char *err, size_t errlen)
{
	const struct hp_pkg_header_disk *h = &v->hdr;
	int ret;

	if ((ret = check_str(v, h->name, "patch name", err, errlen)) ||
	    (ret = check_str(v, h->target_name, "target name", err, errlen)) ||
	    (ret = check_str(v, h->description, "description", err, errlen)))
		return ret;
	for (uint32_t i = 0; i < h->func_count; i++) {
		struct hp_pkg_func_disk f;

		memcpy(&f, v->base + h->func_offset + (size_t)i * sizeof(f), sizeof(f));
		if ((ret = check_str(v, f.name, "function name", err, errlen)) ||
		    (ret = check_str(v, f.tu, "function source", err, errlen)))
			return ret;
	}
	for (uint32_t i = 0; i < h->proxy_count; i++) {
		struct hp_pkg_proxy_disk p;

		memcpy(&p, v->base + h->proxy_offset + (size_t)i * sizeof(p), sizeof(p));
		if ((ret = check_str(v, p.name, "proxy name", err, errlen)) ||
		    (ret = check_str(v, p.tu, "proxy source", err, errlen)))
			return ret;
	}
	for (uint32_t i = 0; i < h->hook_count; i++) {
		struct hp_pkg_hook_disk k;

		memcpy(&k, v->base + h->hook_offset + (size_t)i * sizeof(k), sizeof(k));
		if ((ret = check_str(v, k.name, "hook name", err, errlen)))
			return ret;
	}
	return 0;
}

/* One allocation holds the manifest, both arrays and a copy of the string
 * table, so hp_manifest_free() is a single free(). */
static int decode(const struct manifest_view *v, struct hp_manifest **out)
{
	const struct hp_pkg_header_disk *h = &v->hdr;
	size_t funcs = (size_t)h->func_count * sizeof(struct hp_manifest_func);
	size_t proxies = (size_t)h->proxy_count * sizeof(struct hp_manifest_proxy);
	size_t hooks = (size_t)h->hook_count * sizeof(struct hp_manifest_hook);
	struct hp_manifest *m;
	char *strs;

	m = calloc(1,
		   sizeof(*m) + funcs + proxies + hooks + HP_PKG_PUBLIC_KEY_SIZE + h->strtab_size);
	if (!m)
		return -ENOMEM;
	m->funcs = (struct hp_manifest_func *)(m + 1);
	m->proxies = (struct hp_manifest_proxy *)((char *)m->funcs + funcs);
	m->hooks = (struct hp_manifest_hook *)((char *)m->proxies + proxies);
	if (v->is_signed) {
		memcpy((char *)m->hooks + hooks, v->signer, HP_PKG_PUBLIC_KEY_SIZE);
		m->signer = (const uint8_t *)m->hooks + hooks;
	}
	strs = (char *)m->hooks + hooks + HP_PKG_PUBLIC_KEY_SIZE;
	memcpy(strs, v->base + h->strtab_offset, h->strtab_size);

	m->name = strs + h->name;
	m->target_name = strs + h->target_name;
	m->description = strs + h->description;
	memcpy(m->build_id, h->build_id, h->build_id_size);
	m->build_id_size = h->build_id_size;
	m->created = h->created;
	m->package_size = h->package_size;
	m->flags = h->flags;
	m->func_count = h->func_count;
	m->proxy_count = h->proxy_count;
	for (uint32_t i = 0; i < h->func_count; i++) {
		struct hp_pkg_func_disk f;

		memcpy(&f, v->base + h->func_offset + (size_t)i * sizeof(f), sizeof(f));
		m->funcs[i] = (struct hp_manifest_func){
			.name = strs + f.name,
			.tu = strs + f.tu,
			.target_offset = f.target_offset,
			.replacement_offset = f.replacement_offset,
			.expected_hash = f.expected_hash,
			.expected_size = f.expected_size,
			.entry_offset = f.entry_offset,
			.flags = f.flags,
		};
	}
	for (uint32_t i = 0; i < h->proxy_count; i++) {
		struct hp_pkg_proxy_disk p;

		memcpy(&p, v->base + h->proxy_offset + (size_t)i * sizeof(p), sizeof(p));
		m->proxies[i] = (struct hp_manifest_proxy){
			.name = strs + p.name,
			.tu = strs + p.tu,
			.slot_offset = p.slot_offset,
			.target_offset = p.target_offset,
		};
	}
	m->hook_count = h->hook_count;
	for (uint32_t i = 0; i < h->hook_count; i++) {
		struct hp_pkg_hook_disk k;

		memcpy(&k, v->base + h->hook_offset + (size_t)i * sizeof(k), sizeof(k));
		m->hooks[i] = (struct hp_manifest_hook){
			.name = strs + k.name,
			.offset = k.offset,
			.kind = k.kind,
		};
	}
	*out = m;
	return 0;
}

const char *hp_pkg_hook_kind_name(uint32_t kind)
{
	switch (kind) {
	case HP_PKG_HOOK_PRE_APPLY:
		return "pre-apply";
	case HP_PKG_HOOK_POST_APPLY:
		return "post-apply";
	case HP_PKG_HOOK_PRE_REVERT:
		return "pre-revert";
	case HP_PKG_HOOK_POST_REVERT:
		return "post-revert";
	}
	return "?";
}

/* known: the bytes are those of a package read successfully before, so
 * the checksum and the signature's cryptography would say what they said
 * then; the signer is taken from the record as it is. */
static int read_mem(const void *data, size_t size, int known, struct hp_manifest **out, char *err,
		    size_t errlen)
{
	struct manifest_view v;
	uint64_t off, len;
	int ret;

	*out = NULL;
	ret = hp_elf_find_section(data, size, HP_PKG_MANIFEST_SECTION, &off, &len, err, errlen);
	if (ret)
		return ret;
	v.is_signed = 0;
	if ((ret = check_header(data, size, off, len, &v, err, errlen, known)) ||
	    (ret = check_tables(&v, err, errlen)) || (ret = check_strings(&v, err, errlen)))
		return ret;
	if (v.hdr.flags & HP_PKG_SIGNED) {
		const uint8_t *sig = (const uint8_t *)data + off + v.hdr.signature_offset;

		if (known && v.hdr.signature_size == sizeof(struct hp_pkg_signature_disk))
			memcpy(v.signer, sig + offsetof(struct hp_pkg_signature_disk, public_key),
			       HP_PKG_PUBLIC_KEY_SIZE);
		else if ((ret = hp_pkg_verify_file(
				  data, size, off + offsetof(struct hp_pkg_header_disk, checksum),
				  off + v.hdr.signature_offset, v.hdr.signature_size, v.signer, err,
				  errlen)))
			return ret;
		v.is_signed = 1;
	}
	ret = decode(&v, out);
	if (ret)
		hp_pkg_seterr(err, errlen, "out of memory decoding the manifest");
	return ret;
}

int hp_pkg_read_mem(const void *data, size_t size, struct hp_manifest **out, char *err,
		    size_t errlen)
{
	return read_mem(data, size, 0, out, err, errlen);
}

int hp_pkg_read_mem_known(const void *data, size_t size, struct hp_manifest **out, char *err,
			  size_t errlen)
{
	return read_mem(data, size, 1, out, err, errlen);
}

int hp_pkg_read_file(int fd, uint8_t **data, size_t *size, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int ret;

	*data = NULL;
	*size = 0;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		hp_pkg_seterr(err, errlen, "cannot stat package: %s", strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		hp_pkg_seterr(err, errlen, "package is not a regular file");
		return -EINVAL;
	}
	if (st.st_size < (off_t)sizeof(struct hp_pkg_header_disk) || st.st_size > HP_PKG_MAX_SIZE) {
		hp_pkg_seterr(err, errlen, "package size %lld out of range", (long long)st.st_size);
		return st.st_size > HP_PKG_MAX_SIZE ? -EFBIG : -HP_ETRUNC;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		hp_pkg_seterr(err, errlen, "out of memory reading the package");
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, st.st_size - done, done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -HP_ETRUNC;
			hp_pkg_seterr(err, errlen, "cannot read package: %s",
				      n < 0 ? strerror(errno) : "file shrank while reading");
			goto free_buf;
		}
		done += n;
	}
	*data = buf;
	*size = done;
	return 0;
free_buf:
	free(buf);
	return ret;
}

int hp_pkg_read_fd(int fd, struct hp_manifest **out, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t size;
	int ret;

	*out = NULL;
	ret = hp_pkg_read_file(fd, &buf, &size, err, errlen);
	if (ret)
		return ret;
	ret = hp_pkg_read_mem(buf, size, out, err, errlen);
	free(buf);
	return ret;
}

void hp_manifest_free(struct hp_manifest *m)
{
	free(m);
}
