/* Package writer: collects the manifest, then appends it to a copy of the
 * linked shared object as a new non-allocated section.
 *
 * The ELF is extended by hand rather than through objcopy so that mkpatch
 * and the tests depend on no external tool: the original bytes are kept
 * as they are, and appended after them come the manifest, a new section
 * name table (the old one plus the new name) and a new section header
 * table (the old one plus one entry). Only e_shoff, e_shnum and the name
 * table's header change. The dynamic loader never looks at sections, so
 * the image it maps is byte-for-byte the one the linker produced. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hp_package.h"
#include "hp_pkg_internal.h"

struct hp_pkg_builder {
	struct hp_pkg_header_disk hdr;
	struct hp_pkg_func_disk *funcs;
	size_t nfuncs, cap_funcs;
	struct hp_pkg_proxy_disk *proxies;
	size_t nproxies, cap_proxies;
	struct hp_pkg_hook_disk *hooks;
	size_t nhooks, cap_hooks;
	char *strtab;
	size_t strtab_size, cap_strtab;
	int failed; /* an allocation failed: write refuses */
	int sign;
	uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE];
	char err[256];
};

static int fail(struct hp_pkg_builder *b, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hp_pkg_builder *b, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return ret;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Returns the string's offset in the table (reusing an equal string), or 0
 * with b->failed set when out of memory. */
static uint32_t add_str(struct hp_pkg_builder *b, const char *s)
{
	size_t len, off;

	if (!s || !*s)
		return 0;
	len = strlen(s) + 1;
	for (off = 1; off + len <= b->strtab_size; off += strlen(b->strtab + off) + 1)
		if (memcmp(b->strtab + off, s, len) == 0)
			return off;
	if (b->strtab_size + len > UINT32_MAX ||
	    grow((void **)&b->strtab, &b->cap_strtab, b->strtab_size + len, 1)) {
		b->failed = 1;
		return 0;
	}
	off = b->strtab_size;
	memcpy(b->strtab + off, s, len);
	b->strtab_size += len;
	return off;
}

struct hp_pkg_builder *hp_pkg_builder_new(void)
{
	struct hp_pkg_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->strtab = calloc(1, 64);
	if (!b->strtab) {
		free(b);
		return NULL;
	}
	b->cap_strtab = 64;
	b->strtab_size = 1; /* "" at offset 0 */
	memcpy(b->hdr.magic, HP_PKG_MAGIC, sizeof(b->hdr.magic));
	b->hdr.version = HP_PKG_VERSION_NO_HOOKS; /* 2 once a hook is added */
	b->hdr.header_size = sizeof(b->hdr);
	b->hdr.created = (uint64_t)time(NULL);
	return b;
}

void hp_pkg_builder_free(struct hp_pkg_builder *b)
{
	if (!b)
		return;
	free(b->funcs);
	free(b->proxies);
	free(b->hooks);
	free(b->strtab);
	explicit_bzero(b->secret_key, sizeof(b->secret_key));
	free(b);
}

const char *hp_pkg_builder_error(const struct hp_pkg_builder *b)
{
	return b ? b->err : "no builder";
}

int hp_pkg_builder_set_target(struct hp_pkg_builder *b, const uint8_t *build_id,
			      size_t build_id_size, const char *target_name)
{
	if (!b || !build_id || build_id_size == 0 || build_id_size > HP_PKG_BUILD_ID_MAX)
		return b ? fail(b, -EINVAL, "build-id size %zu out of range 1..%d", build_id_size,
				HP_PKG_BUILD_ID_MAX)
			 : -EINVAL;
	memcpy(b->hdr.build_id, build_id, build_id_size);
	b->hdr.build_id_size = build_id_size;
	b->hdr.target_name = add_str(b, target_name);
	return b->failed ? fail(b, -ENOMEM, "out of memory") : 0;
}

int hp_pkg_builder_set_name(struct hp_pkg_builder *b, const char *name, const char *description)
{
	if (!b)
		return -EINVAL;
	b->hdr.name = add_str(b, name);
	b->hdr.description = add_str(b, description);
	return b->failed ? fail(b, -ENOMEM, "out of memory") : 0;
}

int hp_pkg_builder_add_func(struct hp_pkg_builder *b, const struct hp_pkg_func_spec *f)
{
	struct hp_pkg_func_disk *d;

	if (!b || !f || (!f->expected_bytes && f->expected_size))
		return b ? fail(b, -EINVAL, "bad function spec") : -EINVAL;
	if (grow((void **)&b->funcs, &b->cap_funcs, b->nfuncs + 1, sizeof(*d)))
		return fail(b, -ENOMEM, "out of memory");
	d = &b->funcs[b->nfuncs];
	*d = (struct hp_pkg_func_disk){
		.target_offset = f->target_offset,
		.replacement_offset = f->replacement_offset,
		.expected_hash = hp_pkg_checksum(f->expected_bytes, f->expected_size),
		.expected_size = f->expected_size,
		.entry_offset = f->entry_offset,
		.name = add_str(b, f->name),
		.tu = add_str(b, f->tu),
		.flags = f->flags,
	};
	if (b->failed)
		return fail(b, -ENOMEM, "out of memory");
	b->nfuncs++;
	return 0;
}

int hp_pkg_builder_add_proxy(struct hp_pkg_builder *b, const struct hp_pkg_proxy_spec *p)
{
	struct hp_pkg_proxy_disk *d;

	if (!b || !p)
		return -EINVAL;
	if (grow((void **)&b->proxies, &b->cap_proxies, b->nproxies + 1, sizeof(*d)))
		return fail(b, -ENOMEM, "out of memory");
	d = &b->proxies[b->nproxies];
	*d = (struct hp_pkg_proxy_disk){
		.slot_offset = p->slot_offset,
		.target_offset = p->target_offset,
		.name = add_str(b, p->name),
		.tu = add_str(b, p->tu),
	};
	if (b->failed)
		return fail(b, -ENOMEM, "out of memory");
	b->nproxies++;
	return 0;
}

int hp_pkg_builder_add_hook(struct hp_pkg_builder *b, uint32_t kind, const char *name,
			    uint64_t offset)
{
	if (!b || !name)
		return -EINVAL;
	if (kind < HP_PKG_HOOK_PRE_APPLY || kind > HP_PKG_HOOK_POST_REVERT)
		return fail(b, -EINVAL, "unknown hook kind %u", kind);
	if (grow((void **)&b->hooks, &b->cap_hooks, b->nhooks + 1, sizeof(*b->hooks)))
		return fail(b, -ENOMEM, "out of memory");
	b->hooks[b->nhooks] = (struct hp_pkg_hook_disk){
		.offset = offset,
		.kind = kind,
		.name = add_str(b, name),
	};
	if (b->failed)
		return fail(b, -ENOMEM, "out of memory");
	b->nhooks++;
	b->hdr.version = HP_PKG_VERSION;
	return 0;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int hp_pkg_builder_set_signing_key(struct hp_pkg_builder *b,
				   const uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE])
{
	if (!b || !secret_key)
		return -EINVAL;
	memcpy(b->secret_key, secret_key, sizeof(b->secret_key));
	b->sign = 1;
	return 0;
}

/* Lays the manifest out at m (header, functions, proxies, strings, and
 * room for the signature when signing). */
static void emit_manifest(struct hp_pkg_builder *b, uint8_t *m, size_t msize)
{
	struct hp_pkg_header_disk *h = &b->hdr;
	size_t off = sizeof(*h);

	h->func_count = b->nfuncs;
	h->func_offset = off;
	memcpy(m + off, b->funcs, b->nfuncs * sizeof(*b->funcs));
	off += b->nfuncs * sizeof(*b->funcs);
	h->proxy_count = b->nproxies;
	h->proxy_offset = off;
	if (b->nproxies) /* b->proxies is NULL without proxies */
		memcpy(m + off, b->proxies, b->nproxies * sizeof(*b->proxies));
	off += b->nproxies * sizeof(*b->proxies);
	h->hook_count = b->nhooks;
	h->hook_offset = off;
	if (b->nhooks)
		memcpy(m + off, b->hooks, b->nhooks * sizeof(*b->hooks));
	off += b->nhooks * sizeof(*b->hooks);
	h->strtab_offset = off;
	h->strtab_size = b->strtab_size;
	memcpy(m + off, b->strtab, b->strtab_size);
	off += b->strtab_size;
	if (b->sign) {
		h->flags |= HP_PKG_SIGNED;
		h->signature_offset = off;
		h->signature_size = sizeof(struct hp_pkg_signature_disk);
	}
	h->manifest_size = msize;
	h->checksum = 0;
	memcpy(m, h, sizeof(*h));
}

static int read_whole(struct hp_pkg_builder *b, const char *path, uint8_t **data, size_t *size)
{
	struct stat st;
	size_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(b, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = fail(b, -EINVAL, "'%s' is not a regular file", path);
		goto close_fd;
	}
	*data = malloc(st.st_size ? st.st_size : 1);
	if (!*data) {
		ret = fail(b, -ENOMEM, "out of memory");
		goto close_fd;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = fail(b, n < 0 ? -errno : -EIO, "cannot read '%s'", path);
			free(*data);
			*data = NULL;
			goto close_fd;
		}
		done += n;
	}
	*size = done;
close_fd:
	close(fd);
	return ret;
}

static int write_whole(struct hp_pkg_builder *b, const char *path, const uint8_t *data, size_t size)
{
	size_t done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(b, -errno, "cannot create '%s': %s", path, strerror(errno));
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int ret = -errno;

			fail(b, ret, "cannot write '%s': %s", path, strerror(errno));
			close(fd);
			unlink(path);
			return ret;
		}
		done += n;
	}
	if (close(fd) < 0)
		return fail(b, -errno, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int hp_pkg_builder_write(struct hp_pkg_builder *b, const char *so_path, const char *out_path)
{
	uint8_t *in = NULL, *out = NULL;
	size_t in_size = 0, man_off, man_size, str_off, str_size, sh_off, out_size;
	Elf64_Ehdr eh;
	Elf64_Shdr strsh, mansh;
	uint64_t off, len;
	int ret;

	if (!b || !so_path || !out_path)
		return -EINVAL;
	if (b->failed)
		return fail(b, -ENOMEM, "out of memory");
	if (b->hdr.build_id_size == 0)
		return fail(b, -EINVAL, "no target build-id set");
	if (b->nfuncs == 0)
		return fail(b, -EINVAL, "package replaces no function");
	ret = read_whole(b, so_path, &in, &in_size);
	if (ret)
		return ret;
	/* The reader's checks validate the input's headers on the way; both
	 * linkers name the section name table ".shstrtab". */
	ret = hp_elf_find_section(in, in_size, ".shstrtab", &off, &len, b->err, sizeof(b->err));
	if (ret == 0 &&
	    hp_elf_find_section(in, in_size, HP_PKG_MANIFEST_SECTION, &off, &len, NULL, 0) == 0)
		ret = fail(b, -EEXIST, "'%s' already holds a manifest", so_path);
	if (ret)
		goto free_in;
	memcpy(&eh, in, sizeof(eh));
	memcpy(&strsh, in + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(strsh), sizeof(strsh));
	if (eh.e_shnum + 1 >= SHN_LORESERVE) {
		ret = fail(b, -E2BIG, "'%s' has too many sections", so_path);
		goto free_in;
	}

	man_off = align8(in_size);
	man_size = sizeof(b->hdr) + b->nfuncs * sizeof(*b->funcs) +
		   b->nproxies * sizeof(*b->proxies) + b->nhooks * sizeof(*b->hooks) +
		   b->strtab_size + (b->sign ? sizeof(struct hp_pkg_signature_disk) : 0);
	str_off = man_off + man_size;
	str_size = strsh.sh_size + sizeof(HP_PKG_MANIFEST_SECTION);
	sh_off = align8(str_off + str_size);
	out_size = sh_off + ((size_t)eh.e_shnum + 1) * sizeof(Elf64_Shdr);
	if (man_size > UINT32_MAX) {
		ret = fail(b, -E2BIG, "manifest too large");
		goto free_in;
	}
	out = calloc(1, out_size);
	if (!out) {
		ret = fail(b, -ENOMEM, "out of memory");
		goto free_in;
	}
	memcpy(out, in, in_size);
	emit_manifest(b, out + man_off, man_size);
	memcpy(out + str_off, in + strsh.sh_offset, strsh.sh_size);
	memcpy(out + str_off + strsh.sh_size, HP_PKG_MANIFEST_SECTION,
	       sizeof(HP_PKG_MANIFEST_SECTION));
	memcpy(out + sh_off, in + eh.e_shoff, (size_t)eh.e_shnum * sizeof(Elf64_Shdr));

	strsh.sh_offset = str_off;
	strsh.sh_size = str_size;
	memcpy(out + sh_off + (size_t)eh.e_shstrndx * sizeof(strsh), &strsh, sizeof(strsh));
	mansh = (Elf64_Shdr){
		.sh_name = strsh.sh_size - sizeof(HP_PKG_MANIFEST_SECTION),
		.sh_type = SHT_PROGBITS,
		.sh_offset = man_off,
		.sh_size = man_size,
		.sh_addralign = 8,
	};
	memcpy(out + sh_off + (size_t)eh.e_shnum * sizeof(mansh), &mansh, sizeof(mansh));
	eh.e_shoff = sh_off;
	eh.e_shnum++;
	memcpy(out, &eh, sizeof(eh));

	/* Seal: size first, then the signature, then the checksum over
	 * everything else (the signature included). */
	b->hdr.package_size = out_size;
	memcpy(out + man_off + offsetof(struct hp_pkg_header_disk, package_size),
	       &b->hdr.package_size, sizeof(b->hdr.package_size));
	if (b->sign) {
		ret = hp_pkg_sign_file(out, out_size,
				       man_off + offsetof(struct hp_pkg_header_disk, checksum),
				       man_off + b->hdr.signature_offset, b->secret_key);
		if (ret) {
			fail(b, ret, "signing failed: %s", strerror(-ret));
			free(out);
			goto free_in;
		}
	}
	b->hdr.checksum = hp_pkg_file_checksum(
		out, out_size, man_off + offsetof(struct hp_pkg_header_disk, checksum));
	memcpy(out + man_off + offsetof(struct hp_pkg_header_disk, checksum), &b->hdr.checksum,
	       sizeof(b->hdr.checksum));
	ret = write_whole(b, out_path, out, out_size);
	free(out);
free_in:
	free(in);
	return ret;
}
