/* The package in memory: the sealed copy that is verified and then
 * loaded, the dynamic loader, the proxy slots, and the trusted keys. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hp_core.h"

/* Packages ever loaded, each as the sealed in-memory copy its loader name
 * refers to.
 *
 * What is verified is what runs: the caller's file is read once into the
 * runtime's memory, the manifest and checksum are read from there, and
 * the loader maps a memfd written from those bytes and sealed against
 * every write before dlopen. The only change on the way is hp_rebase.c's:
 * the link-time addresses move so the package lands next to its target
 * (its code and data bytes stay as verified). Rewriting the package file
 * during or after an apply changes nothing in the process.
 *
 * glibc recognises an already loaded object by name before it opens the
 * file, and when it finds the same file under a new name it adds that
 * name to the old object. So "/proc/self/fd/N" must never be reused for a
 * different package while anything is loaded under it: the sealed copy
 * stays open as long as the package is mapped (forever, once applied), and
 * a package with the same bytes as one loaded before is loaded again under
 * that copy's name. */
struct hp_loaded {
	void *dl;
	int fd;
	uint64_t delta; /* how far hp_pkg_rebase moved it */
	void *bytes;	/* the package as read, to recognise it when it comes again */
	size_t size;
	struct hp_loaded *next;
};
static struct hp_loaded *loaded;

static struct hp_loaded *find_loaded(const void *bytes, size_t size)
{
	for (struct hp_loaded *l = loaded; l; l = l->next)
		if (l->size == size && memcmp(l->bytes, bytes, size) == 0)
			return l;
	return NULL;
}

int hp_read_package(int fd, struct hp_sealed *s, char *err, size_t errlen)
{
	int ret;

	*s = (struct hp_sealed){.fd = -1};
	ret = hp_pkg_read_file(fd, &s->bytes, &s->size, err, errlen);
	if (ret)
		return ret;
	s->old = find_loaded(s->bytes, s->size);
	if (s->old) {
		s->fd = s->old->fd;
		s->delta = s->old->delta;
	}
	return 0;
}

/* The span of target's executable segments. */
static int target_code(const struct hp_image *target, uintptr_t *lo, uintptr_t *hi)
{
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (size_t i = 0; i < target->nseg; i++) {
		const struct hp_segment *g = &target->seg[i];

		if (!(g->flags & PF_X))
			continue;
		if (target->bias + g->vaddr < *lo)
			*lo = target->bias + g->vaddr;
		if (target->bias + g->vaddr + g->memsz > *hi)
			*hi = target->bias + g->vaddr + g->memsz;
	}
	return *lo < *hi ? 0 : -ENOENT;
}

/* A copy of s's bytes moved next to target, with the range reserved
 * (PROT_NONE) in *near and *len until the loader takes it; NULL to load the
 * package where the kernel likes (HOTPATCH_NEAR=0, no free range, or a
 * package hp_pkg_rebase cannot move). */
static void *moved_copy(struct hp_sealed *s, const struct hp_image *target, uintptr_t *near,
			uint64_t *len)
{
	const char *env = getenv("HOTPATCH_NEAR");
	uint64_t lo, align;
	uintptr_t tlo, thi;
	void *copy;

	*near = 0;
	if ((env && strcmp(env, "0") == 0) || target_code(target, &tlo, &thi) ||
	    hp_pkg_extent(s->bytes, s->size, &lo, len, &align))
		return NULL;
	copy = malloc(s->size);
	if (!copy)
		return NULL;
	*near = hp_map_near(tlo, thi, *len, align, PROT_NONE);
	memcpy(copy, s->bytes, s->size);
	if (*near && hp_pkg_rebase(copy, s->size, *near - lo) == 0) {
		s->delta = *near - lo;
		return copy;
	}
	if (*near)
		munmap((void *)*near, *len);
	*near = 0;
	free(copy);
	return NULL;
}

/* Writes the sealed copy the loader maps. */
static int write_sealed(struct hp_sealed *s, const void *bytes, char *err, size_t errlen)
{
	s->fd = memfd_create("hotpatch-package", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd < 0) {
		hp_seterr(err, errlen, "cannot make a sealed copy of the package: %s",
			  strerror(errno));
		return -errno;
	}
	for (size_t done = 0; done < s->size;) {
		ssize_t n = write(s->fd, (const char *)bytes + done, s->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hp_seterr(err, errlen, "cannot copy the package: %s", strerror(errno));
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	if (fcntl(s->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		hp_seterr(err, errlen, "cannot seal the package copy: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* After a failed apply: what hp_read_package and hp_load_package made and
 * nothing keeps. */
void hp_sealed_release(struct hp_sealed *s)
{
	if (!s->old && s->fd >= 0)
		close(s->fd);
	free(s->bytes);
	*s = (struct hp_sealed){.fd = -1};
}

/* Remembers a package loaded under a new name after a successful apply;
 * the sealed copy then belongs to the registry. */
void hp_sealed_keep(void *dl, struct hp_sealed *s)
{
	struct hp_loaded *l;

	if (s->old) {
		free(s->bytes); /* loaded under its old name */
		*s = (struct hp_sealed){.fd = -1};
		return;
	}
	l = malloc(sizeof(*l));
	if (l) {
		*l = (struct hp_loaded){dl, s->fd, s->delta, s->bytes, s->size, loaded};
		loaded = l;
	} else {
		free(s->bytes); /* the copy stays open and unnamed: harmless */
	}
	*s = (struct hp_sealed){.fd = -1};
}

int hp_load_package(struct hp_sealed *s, const struct hp_image *target, void **dl, uintptr_t *pbias,
		    char *err, size_t errlen)
{
	struct link_map *lm;
	char path[64];
	uintptr_t near = 0;
	uint64_t len = 0;
	int ret = 0;

	if (!s->old) {
		void *copy = moved_copy(s, target, &near, &len);

		ret = write_sealed(s, copy ? copy : s->bytes, err, errlen);
		free(copy);
		/* The loader maps at the moved address only if it is free: let
		 * the reservation go just before. Should another thread take
		 * it meanwhile, the package lands elsewhere, its bias says so,
		 * and the sites route through trampolines. */
		if (near)
			munmap((void *)near, len);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*dl) {
		const char *why = dlerror();

		hp_seterr(err, errlen, "cannot load package: %s", why ? why : "dlopen failed");
		return -HP_ELOAD;
	}
	if (dlinfo(*dl, RTLD_DI_LINKMAP, &lm) != 0) {
		hp_seterr(err, errlen, "cannot find where the package was loaded");
		dlclose(*dl);
		*dl = NULL;
		return -HP_ELOAD;
	}
	/* Manifest offsets are from the package's own link-time base. The
	 * replacements and slots were checked against its segments before
	 * loading (hp_pkg_check_code). */
	*pbias = lm->l_addr + s->delta;
	return 0;
}

/* Fills the package's proxy slots (they may sit in RELRO memory). The
 * package is not reachable from the target yet, so this is preparation. */
int hp_fill_slots(const struct hp_manifest *m, uintptr_t tbias, uintptr_t pbias, struct hp_cw *cw,
		  char *err, size_t errlen)
{
	int ret;

	for (size_t i = 0; i < m->proxy_count; i++) {
		uintptr_t slot = pbias + m->proxies[i].slot_offset;
		uintptr_t value = tbias + m->proxies[i].target_offset;

		ret = hp_fp(HP_FP_APPLY_SLOTS, err, errlen);
		if (ret)
			return ret;
		/* A package applied before (the same mapping, under its old
		 * name) has its slots filled already: no page to unprotect,
		 * and no TLB shootdown of every core when it is protected
		 * again. */
		if (hp_load8(slot) == value)
			continue;
		if ((ret = hp_cw_prepare(cw, slot, 8, err, errlen)))
			return ret;
		hp_store8(slot, value);
	}
	return 0;
}

/* Set once by the constructor, before any listener thread exists, and
 * only read afterwards. */
static int trust_required;
static struct hp_pkg_keyring trusted;

int hp_trust_init(const char *dir, char *err, size_t errlen)
{
	struct hp_pkg_keyring kr = {0};
	int ret = hp_pkg_keyring_load_dir(&kr, dir, err, errlen);

	trust_required = 1;
	if (!ret && kr.count == 0) {
		hp_seterr(err, errlen, "no key file (*.pub) in '%s'", dir);
		ret = -ENOENT;
	}
	if (!ret)
		trusted = kr;
	return ret;
}

/* The signature itself was verified by the reader; this decides whether
 * its key may run code here. */
int hp_trust_check(const struct hp_manifest *m, char *err, size_t errlen)
{
	if (!trust_required)
		return 0;
	if (trusted.count == 0) {
		hp_seterr(err, errlen,
			  "no trusted key loaded (HOTPATCH_TRUSTED_KEYS failed at start): "
			  "every package is refused");
		return -HP_EUNTRUSTED;
	}
	return hp_pkg_keyring_check(&trusted, m, err, errlen);
}

int hp_trust_required(size_t *keys)
{
	*keys = trusted.count;
	return trust_required;
}
