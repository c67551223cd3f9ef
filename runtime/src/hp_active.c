/* Which replaced functions are still running their old code: a look at
 * every thread's stack, without stopping the process.
 *
 * A function replaced while a thread is inside it keeps running its old
 * code there until it returns; for an event loop that is never. To find
 * them, each thread's live stack ([sp, top of its stack mapping)) is
 * copied and scanned for return addresses into the old code, and its
 * current pc checked:
 *
 * - a thread blocked in the kernel (most threads of a server, most of the
 *   time) is read without disturbing it at all: /proc/self/task/TID/syscall
 *   gives its sp and pc, process_vm_readv() copies its stack (a thread that
 *   exits meanwhile gives EFAULT, not a crash), and a second read of the
 *   syscall file confirms it did not move meanwhile;
 * - a thread running user code gets one real-time signal whose handler
 *   copies its own stack into our buffer and returns: the pause is that
 *   copy (measured, reported in status). A running thread is in no system
 *   call the signal could interrupt; the signal is one whose disposition
 *   was the default (so the program does not use it), chosen at first use.
 *
 * The scan is conservative: any word on the live stack that points into
 * old code just after a call instruction counts. A stale slot can make it
 * over-report (a warning too many); it cannot miss a frame that is live.
 * Only the original code of each function is looked for (not the code of
 * an earlier patch of the same function). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "hp_internal.h"

#define STACK_COPY_MAX (1u << 20) /* the outermost 1 MiB of a deeper stack */
#define SIGNAL_WAIT_NS 500000000  /* a signalled thread gets 0.5 s to answer */
#define MOVED_RETRIES 3

/* The one request a signal handler may answer. state is gen << 2 | phase:
 * the handler may only move ARMED(gen) to BUSY(gen), so a signal that
 * arrives late (after the sampler gave up) finds nothing to do. */
enum { PH_IDLE, PH_ARMED, PH_BUSY, PH_DONE };

static struct {
	uint64_t state;
	pid_t tid;
	const struct hp_code_range *maps;
	size_t nmaps;
	uint8_t *buf;
	/* out */
	uintptr_t sp, pc, base;
	size_t len;
	uint64_t pause_ns;
} req;

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *stack_buf;
static int scan_signal; /* 0: not chosen yet; -1: none usable */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* The range of the sorted r holding a, or NULL: the code range a return
 * address points into, or the mapping a stack pointer is in (its end is the
 * top of that thread's stack). */
static const struct hp_code_range *range_of(const struct hp_code_range *r, size_t n, uintptr_t a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a < r[mid].start)
			hi = mid;
		else if (a >= r[mid].end)
			lo = mid + 1;
		else
			return &r[mid];
	}
	return NULL;
}

/* The live part of a stack whose pointer is sp: [sp, top), or its
 * outermost STACK_COPY_MAX bytes (the frames of long-running functions,
 * the ones this looks for, are the outer ones). */
static int stack_extent(const struct hp_code_range *m, size_t n, uintptr_t sp, uintptr_t *base,
			size_t *len)
{
	const struct hp_code_range *s = range_of(m, n, sp);

	if (!s)
		return -1;
	*len = s->end - sp > STACK_COPY_MAX ? STACK_COPY_MAX : s->end - sp;
	*base = s->end - *len;
	return 0;
}

static void on_sample_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	uint64_t st = __atomic_load_n(&req.state, __ATOMIC_ACQUIRE), t0 = now_ns();
	uint64_t busy = (st & ~3ull) | PH_BUSY;
	uintptr_t sp, base;
	size_t len;

	(void)sig;
	if ((st & 3) != PH_ARMED || si->si_code != SI_TKILL || si->si_pid != getpid() ||
	    req.tid != (pid_t)syscall(SYS_gettid) ||
	    !__atomic_compare_exchange_n(&req.state, &st, busy, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		goto out;
	sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	req.sp = sp;
	req.pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	req.len = 0;
	if (!stack_extent(req.maps, req.nmaps, sp, &base, &len)) {
		memcpy(req.buf, (const void *)base, len);
		req.base = base;
		req.len = len;
	}
	req.pause_ns = now_ns() - t0;
	__atomic_store_n(&req.state, (busy & ~3ull) | PH_DONE, __ATOMIC_RELEASE);
	syscall(SYS_futex, &req.state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
out:
	errno = saved_errno;
}

/* A real-time signal nobody handles, with our handler installed; kept for
 * the life of the process (a late signal must never meet the default
 * action, which would kill it). */
static int sample_signal(void)
{
	struct sigaction sa = {.sa_sigaction = on_sample_signal,
			       .sa_flags = SA_SIGINFO | SA_RESTART};
	struct sigaction cur;
	const char *env = getenv("HOTPATCH_ACTIVE_SIGNAL");

	if (scan_signal > 0 && !sigaction(scan_signal, NULL, &cur) && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == on_sample_signal)
		return scan_signal;
	if (env && !strcmp(env, "0"))
		return scan_signal = -1;
	sigfillset(&sa.sa_mask);
	for (int sig = SIGRTMAX; sig >= SIGRTMIN + 2; sig--) {
		if (sigaction(sig, NULL, &cur) || cur.sa_handler != SIG_DFL ||
		    (cur.sa_flags & SA_SIGINFO))
			continue;
		if (!sigaction(sig, &sa, NULL))
			return scan_signal = sig;
	}
	return scan_signal = -1;
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* Where a thread blocked in the kernel stands: 0 and its sp and pc, 1 when
 * it is running, or a negative errno. */
static int blocked_at(pid_t tid, uintptr_t *sp, uintptr_t *pc)
{
	char path[64], buf[256], *last, *prev;
	int ret;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	if ((ret = read_small(path, buf, sizeof(buf))))
		return ret;
	if (!strncmp(buf, "running", 7))
		return 1;
	buf[strcspn(buf, "\n")] = 0;
	last = strrchr(buf, ' ');
	if (!last)
		return -EINVAL;
	*last = 0;
	prev = strrchr(buf, ' ');
	if (!prev)
		return -EINVAL;
	*sp = strtoull(prev + 1, NULL, 0);
	*pc = strtoull(last + 1, NULL, 0);
	return 0;
}

/* Copies the stack of a thread blocked in the kernel. 0 on success, 1 when
 * it is running (or kept moving), or a negative errno. */
static int copy_blocked(pid_t tid, const struct hp_code_range *maps, size_t nmaps, uintptr_t *sp,
			uintptr_t *pc, uintptr_t *base, size_t *len)
{
	for (int i = 0; i < MOVED_RETRIES; i++) {
		uintptr_t sp2, pc2;
		int ret = blocked_at(tid, sp, pc);

		if (ret)
			return ret;
		if (stack_extent(maps, nmaps, *sp, base, len))
			return -EFAULT;
		struct iovec local = {stack_buf, *len}, remote = {(void *)*base, *len};
		if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)*len)
			return errno ? -errno : -EFAULT;
		ret = blocked_at(tid, &sp2, &pc2);
		if (ret < 0)
			return ret;
		if (!ret && sp2 == *sp && pc2 == *pc)
			return 0;
	}
	return 1;
}

/* Whether tid blocks sig (its SigBlk mask in /proc). */
static int blocks_signal(pid_t tid, int sig)
{
	char path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if (read_small(path, buf, sizeof(buf)) || !(p = strstr(buf, "SigBlk:")))
		return 0;
	return (strtoull(p + 7, NULL, 16) >> (sig - 1)) & 1;
}

/* Copies the stack of a running thread from its own signal handler. */
static int copy_signalled(pid_t tid, int sig, const struct hp_code_range *maps, size_t nmaps,
			  struct hp_active_report *out, uintptr_t *sp, uintptr_t *pc,
			  uintptr_t *base, size_t *len)
{
	uint64_t gen = (__atomic_load_n(&req.state, __ATOMIC_RELAXED) >> 2) + 1, st;
	uint64_t armed = gen << 2 | PH_ARMED, done = gen << 2 | PH_DONE, deadline;

	req.tid = tid;
	req.maps = maps;
	req.nmaps = nmaps;
	req.buf = stack_buf;
	__atomic_store_n(&req.state, armed, __ATOMIC_RELEASE);
	if (syscall(SYS_tgkill, getpid(), tid, sig) < 0) {
		__atomic_store_n(&req.state, gen << 2 | PH_IDLE, __ATOMIC_RELEASE);
		return -errno;
	}
	deadline = now_ns() + SIGNAL_WAIT_NS;
	for (;;) {
		st = __atomic_load_n(&req.state, __ATOMIC_ACQUIRE);
		if (st == done)
			break;
		/* Give up only while the handler has not started: once BUSY it
		 * finishes its copy without waiting on anything. */
		if (st == armed && now_ns() >= deadline) {
			if (__atomic_compare_exchange_n(&req.state, &st, gen << 2 | PH_IDLE, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return -ETIMEDOUT;
			continue;
		}
		struct timespec ts = {0, 1000000};
		syscall(SYS_futex, &req.state, FUTEX_WAIT_PRIVATE, (uint32_t)st, &ts, NULL, 0);
	}
	out->signalled++;
	out->pause_ns_total += req.pause_ns;
	if (req.pause_ns > out->pause_ns_max)
		out->pause_ns_max = req.pause_ns;
	*sp = req.sp;
	*pc = req.pc;
	*base = req.base;
	*len = req.len;
	return req.len ? 0 : -EFAULT;
}

/* Code just before a return address: a call (e8 rel32; ff /2 with a
 * register, disp8, disp32 or rip-relative operand). */
static int after_call(uintptr_t ra)
{
	const uint8_t *p = (const uint8_t *)ra;

	return p[-5] == 0xe8 || (p[-6] == 0xff && p[-5] == 0x15) ||
	       (p[-2] == 0xff && (p[-1] & 0xf8) == 0xd0) ||
	       (p[-3] == 0xff && (p[-2] & 0xf8) == 0x50) ||
	       (p[-6] == 0xff && (p[-5] & 0xf8) == 0x90) || (p[-3] == 0xff && p[-2] == 0x14) ||
	       (p[-4] == 0xff && p[-3] == 0x54) || (p[-7] == 0xff && p[-6] == 0x94);
}

static int add_hit(struct hp_active_report *out, pid_t tid, size_t range, int executing)
{
	for (size_t i = 0; i < out->nhits; i++)
		if (out->hits[i].tid == tid && out->hits[i].range == range) {
			out->hits[i].executing |= executing;
			return 0;
		}
	if (out->nhits == out->cap) {
		size_t cap = out->cap ? 2 * out->cap : 16;
		struct hp_active_hit *h = realloc(out->hits, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		out->hits = h;
		out->cap = cap;
	}
	out->hits[out->nhits++] = (struct hp_active_hit){tid, range, executing};
	return 0;
}

/* Return addresses are at least 8 bytes above the start of old code (a
 * call instruction precedes them), so the call check never reads before
 * a range; ranges lie in the target's mapped code. */
static int scan_copy(const struct hp_code_range *r, size_t n, pid_t tid, uintptr_t pc,
		     const uint8_t *copy, size_t len, struct hp_active_report *out)
{
	const struct hp_code_range *hit = range_of(r, n, pc);
	int ret = 0;

	if (hit && (ret = add_hit(out, tid, hit - r, 1)))
		return ret;
	for (size_t off = 0; off + 8 <= len; off += 8) {
		uintptr_t w;

		memcpy(&w, copy + off, sizeof(w));
		hit = range_of(r, n, w);
		if (hit && w >= hit->start + 8 && after_call(w) &&
		    (ret = add_hit(out, tid, hit - r, 0)))
			return ret;
	}
	return 0;
}

static int load_maps(struct hp_code_range **out, size_t *n)
{
	FILE *f = fopen("/proc/self/maps", "re");
	struct hp_code_range *m = NULL;
	size_t cap = 0;
	unsigned long lo, hi;
	char line[512];

	*n = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (*n == cap) {
			struct hp_code_range *g =
				realloc(m, (cap = cap ? 2 * cap : 256) * sizeof(*m));

			if (!g) {
				free(m);
				fclose(f);
				return -ENOMEM;
			}
			m = g;
		}
		m[(*n)++] = (struct hp_code_range){.start = lo, .end = hi};
		/* a line longer than the buffer: skip its rest */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	fclose(f);
	*out = m;
	return 0;
}

static void note_unchecked(struct hp_active_report *out, pid_t tid, const char *why)
{
	if (out->nunchecked < HP_ACTIVE_UNCHECKED_MAX)
		out->unchecked[out->nunchecked] = (struct hp_active_unchecked){tid, why};
	out->nunchecked++;
}

int hp_active_scan(const struct hp_code_range *r, size_t n, struct hp_active_report *out)
{
	struct hp_code_range *maps = NULL;
	pid_t self = (pid_t)syscall(SYS_gettid);
	struct dirent *de;
	size_t nmaps = 0;
	DIR *d;
	int ret, sig;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	pthread_mutex_lock(&scan_lock);
	if (!stack_buf) {
		void *p = mmap(NULL, STACK_COPY_MAX, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			ret = -errno;
			goto unlock;
		}
		stack_buf = p;
	}
	if ((ret = load_maps(&maps, &nmaps)))
		goto unlock;
	d = opendir("/proc/self/task");
	if (!d) {
		ret = -errno;
		goto unlock;
	}
	sig = sample_signal();
	uint64_t t0 = now_ns();
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		uintptr_t sp = 0, pc = 0, base = 0;
		size_t len = 0;

		if (tid <= 0 || tid == self)
			continue;
		out->threads++;
		int got = copy_blocked(tid, maps, nmaps, &sp, &pc, &base, &len);
		if (got == 1) { /* running user code */
			if (sig < 0) {
				note_unchecked(out, tid, "running, and no signal to sample it");
				continue;
			}
			if (blocks_signal(tid, sig)) {
				note_unchecked(out, tid, "running with signals blocked");
				continue;
			}
			got = copy_signalled(tid, sig, maps, nmaps, out, &sp, &pc, &base, &len);
		}
		if (got == -ESRCH || got == -ENOENT) { /* exited meanwhile */
			out->threads--;
			continue;
		}
		if (got) {
			note_unchecked(out, tid,
				       got == -ETIMEDOUT ? "did not answer the sampling signal"
							 : "its stack could not be read");
			continue;
		}
		out->checked++;
		if ((ret = scan_copy(r, n, tid, pc, stack_buf, len, out)))
			break;
	}
	out->scan_ns = now_ns() - t0;
	closedir(d);
unlock:
	pthread_mutex_unlock(&scan_lock);
	free(maps);
	return ret;
}

void hp_active_report_free(struct hp_active_report *r)
{
	free(r->hits);
	r->hits = NULL;
	r->nhits = r->cap = 0;
}
