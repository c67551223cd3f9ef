/* Making code writable for the duration of one operation, and serialising
 * the cores afterwards.
 *
 * Pages become RWX, never RW-: other threads keep executing the very pages
 * being patched, so PROT_EXEC must never be dropped. The original
 * protection comes from the kernel's own view of the mappings rather than
 * the ELF flags, because the loader may have merged or split segments'
 * pages: asked per page with the PROCMAP_QUERY ioctl where the kernel has
 * it (Linux 6.11), else from /proc/self/maps read once per operation —
 * formatting that text for every mapping of a large server costs more
 * than the rest of an apply. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hp_internal.h"

static char *read_maps(void)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), e;

	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	close(fd);
	return buf;
fail:
	e = buf ? errno : ENOMEM;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = e; /* the caller says why */
	return NULL;
}

/* Protection of the mapping holding page, or -1 when it is not mapped. */
static int maps_prot(const char *maps, uintptr_t page)
{
	for (const char *l = maps; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long lo, hi;
		char perm[5];

		if (sscanf(l, "%lx-%lx %4s", &lo, &hi, perm) != 3)
			continue;
		if (page < lo || page >= hi)
			continue;
		return (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) |
		       (perm[2] == 'x' ? PROT_EXEC : 0);
	}
	return -1;
}

/* The kernel's PROCMAP_QUERY (uapi linux/fs.h of 6.11; the headers of
 * this distribution predate it, the ABI is fixed). */
struct procmap_query {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	__u32 dev_major, dev_minor;
	__u32 vma_name_size, build_id_size;
	__u64 vma_name_addr, build_id_addr;
};
#define HP_PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
_Static_assert(sizeof(struct procmap_query) == 104, "procmap_query is the kernel's 104 bytes");
#define HP_PROCMAP_READABLE 0x01
#define HP_PROCMAP_WRITABLE 0x02
#define HP_PROCMAP_EXECUTABLE 0x04

/* -2: the kernel has no PROCMAP_QUERY (use the text); -1: not mapped. */
static int query_prot(struct hp_cw *cw, uintptr_t page)
{
	struct procmap_query q = {.size = sizeof(q), .query_addr = page};

	if (cw->maps_fd == 0)
		cw->maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC) + 1;
	if (cw->maps_fd <= 0 || cw->no_query)
		return -2;
	if (ioctl(cw->maps_fd - 1, HP_PROCMAP_QUERY, &q) < 0) {
		if (errno == ENOENT)
			return -1;
		cw->no_query = 1; /* ENOTTY, EINVAL: an older kernel */
		return -2;
	}
	return (q.vma_flags & HP_PROCMAP_READABLE ? PROT_READ : 0) |
	       (q.vma_flags & HP_PROCMAP_WRITABLE ? PROT_WRITE : 0) |
	       (q.vma_flags & HP_PROCMAP_EXECUTABLE ? PROT_EXEC : 0);
}

static int prepare_page(struct hp_cw *cw, uintptr_t page, char *err, size_t errlen)
{
	int prot;

	for (size_t i = 0; i < cw->n; i++)
		if (cw->pages[i].addr == page)
			return 0;
	prot = query_prot(cw, page);
	if (prot == -2) {
		if (!cw->maps && !(cw->maps = read_maps())) {
			hp_seterr(err, errlen, "cannot read /proc/self/maps: %s", strerror(errno));
			return -EIO;
		}
		prot = maps_prot(cw->maps, page);
	}
	if (prot < 0) {
		hp_seterr(err, errlen, "address %#lx is not mapped", (unsigned long)page);
		return -HP_EOUTSIDE;
	}
	if (cw->n == cw->cap) {
		size_t cap = cw->cap ? cw->cap * 2 : 16;
		struct hp_cw_page *p = realloc(cw->pages, cap * sizeof(*p));

		if (!p) {
			hp_seterr(err, errlen, "out of memory");
			return -ENOMEM;
		}
		cw->pages = p;
		cw->cap = cap;
	}
	if (!(prot & PROT_WRITE) && mprotect((void *)page, 4096, prot | PROT_WRITE) < 0) {
		int e = errno;

		if ((e == EACCES || e == EPERM) && (prot & PROT_EXEC)) {
			hp_seterr(err, errlen,
				  "kernel refused to make code page %#lx writable while executable "
				  "(W^X policy, e.g. SELinux execmod or PaX MPROTECT): %s",
				  (unsigned long)page, strerror(e));
			return -HP_EWX;
		}
		hp_seterr(err, errlen, "mprotect %#lx: %s", (unsigned long)page, strerror(e));
		return -e;
	}
	cw->pages[cw->n++] = (struct hp_cw_page){page, prot};
	return 0;
}

/* A rehearsal's slice of cycles (hp_cw_hold_begin .. hp_cw_hold_end, all
 * under one operation flag): the pages its applies and reverts make
 * writable stay so until the slice ends, in held, instead of two mprotect
 * calls per operation, each taking write permission away again with a TLB
 * shootdown of every core that runs the program. */
static struct hp_cw held;
static int holding;

int hp_cw_prepare(struct hp_cw *cw, uintptr_t addr, size_t len, char *err, size_t errlen)
{
	uintptr_t page = addr & ~(uintptr_t)4095, end = addr + len;
	int ret;

	if (holding)
		cw = &held;
	for (; page < end; page += 4096)
		if ((ret = prepare_page(cw, page, err, errlen)))
			return ret;
	return 0;
}

static void restore_pages(struct hp_cw *cw)
{
	/* Restoring can only fail if the mapping vanished; the write is done
	 * either way, so there is nothing useful to report. */
	for (size_t i = 0; i < cw->n; i++)
		if (!(cw->pages[i].prot & PROT_WRITE))
			mprotect((void *)cw->pages[i].addr, 4096, cw->pages[i].prot);
	free(cw->pages);
	free(cw->maps);
	if (cw->maps_fd > 0)
		close(cw->maps_fd - 1);
	*cw = (struct hp_cw){0};
}

void hp_cw_finish(struct hp_cw *cw)
{
	restore_pages(cw); /* while holding, cw has none of its own */
	if (holding) {
		/* The pages stay; a snapshot of the maps would go stale. */
		free(held.maps);
		held.maps = NULL;
	}
}

void hp_cw_hold_begin(void)
{
	holding = 1;
}

int hp_cw_holding(void)
{
	return holding;
}

void hp_cw_hold_end(void)
{
	holding = 0;
	restore_pages(&held);
}

/* A child forked during a slice has no thread to end it: its pages get
 * their protection back at once. */
void hp_cw_atfork_child(void)
{
	if (holding)
		hp_cw_hold_end();
}

/* ---- core serialisation ---- */

enum { SYNC_NONE, SYNC_MEMBARRIER, SYNC_IPI };
static int sync_mode = SYNC_NONE;
static void *ipi_page;

void hp_sync_init(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) ==
		    0) {
		sync_mode = SYNC_MEMBARRIER;
		return;
	}
	/* Fallback: downgrading a present page's protection makes the kernel
	 * shoot down the TLB of every CPU running this mm, by IPI; returning
	 * from the interrupt serialises that CPU. */
	if (!ipi_page) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		ipi_page = p == MAP_FAILED ? NULL : p;
	}
	sync_mode = SYNC_IPI;
}

static unsigned long sync_count;

unsigned long hp_sync_count(void)
{
	return __atomic_load_n(&sync_count, __ATOMIC_RELAXED);
}

void hp_sync_cores(void)
{
	__atomic_fetch_add(&sync_count, 1, __ATOMIC_RELAXED);
	if (sync_mode == SYNC_NONE)
		hp_sync_init();
	if (sync_mode == SYNC_MEMBARRIER &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0)
		return;
	if (ipi_page) {
		*(volatile char *)ipi_page = 1;
		mprotect(ipi_page, 4096, PROT_READ);
		mprotect(ipi_page, 4096, PROT_READ | PROT_WRITE);
	}
}

const char *hp_sync_mode(void)
{
	switch (sync_mode) {
	case SYNC_MEMBARRIER:
		return "membarrier-sync-core";
	case SYNC_IPI:
		return "mprotect-ipi";
	default:
		return "uninitialised";
	}
}
