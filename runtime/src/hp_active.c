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
 * - threads running user code get one real-time signal each, all of a
 *   batch at once, whose handler scans its own live stack for the old
 *   code and returns: the pause is that scan (measured, reported in
 *   status), and the look waits for the slowest thread to be scheduled
 *   rather than for each in turn. A running thread is in no system call
 *   the signal could interrupt; the signal is one whose disposition was
 *   the default (so the program does not use it), chosen at first use.
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

/* The requests signal handlers may answer: every running thread of a
 * batch is signalled at once and scans its own stack in its handler, so a
 * scan waits for the slowest of them to be scheduled, not for each in
 * turn. A slot's state is gen << 2 | phase: a handler may only move
 * ARMED(gen) to BUSY(gen), so a signal that arrives late (after the
 * scanner gave up on it) finds nothing to do, and reads nothing else. */
enum { PH_IDLE, PH_ARMED, PH_BUSY, PH_DONE };

#define SLOTS 32     /* threads signalled at once */
#define SLOT_HITS 32 /* old-code functions one thread's stack may list */

static struct slot {
	uint64_t state;
	pid_t tid;
	/* out, written by the handler while BUSY */
	uintptr_t pc;
	int readable; /* its stack mapping was found */
	unsigned nhits, overflow;
	struct {
		uint32_t range;
		uint8_t executing;
	} hits[SLOT_HITS];
	uint64_t pause_ns;
} slots[SLOTS];

/* What the handlers of the current batch scan for; set while no slot is
 * ARMED or BUSY. */
static struct {
	const struct hp_code_range *r, *maps;
	size_t n, nmaps;
} batch;

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *stack_buf;
static int scan_signal; /* 0: not chosen yet; -1: none usable */

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

/* Calls found(ctx, range, executing) for pc and for every word of the
 * stack bytes [words, words + len) that is a return address into one of
 * the sorted ranges r; stops at the first non-zero it returns. Return
 * addresses are at least 8 bytes above the start of old code (a call
 * instruction precedes them), so the call check never reads before a
 * range; ranges lie in the target's mapped code. Async-signal-safe: the
 * signal handler scans its own stack with it, the scanner a copy. */
static int scan_frames(const struct hp_code_range *r, size_t n, uintptr_t pc, const uint8_t *words,
		       size_t len, int (*found)(void *ctx, size_t range, int executing), void *ctx)
{
	const struct hp_code_range *hit = range_of(r, n, pc);
	int ret = 0;

	if (hit && (ret = found(ctx, (size_t)(hit - r), 1)))
		return ret;
	for (size_t off = 0; off + 8 <= len; off += 8) {
		uintptr_t w;

		memcpy(&w, words + off, sizeof(w));
		hit = range_of(r, n, w);
		if (hit && w >= hit->start + 8 && after_call(w) &&
		    (ret = found(ctx, (size_t)(hit - r), 0)))
			return ret;
	}
	return 0;
}

static int slot_hit(void *ctx, size_t range, int executing)
{
	struct slot *sl = ctx;

	for (unsigned i = 0; i < sl->nhits; i++)
		if (sl->hits[i].range == range) {
			sl->hits[i].executing |= executing;
			return 0;
		}
	if (sl->nhits == SLOT_HITS) {
		sl->overflow = 1;
		return 0;
	}
	sl->hits[sl->nhits].range = (uint32_t)range;
	sl->hits[sl->nhits++].executing = (uint8_t)executing;
	return 0;
}

/* The interrupted thread's own frames: its pc, and its live stack. */
static void scan_own_stack(struct slot *sl, uintptr_t sp, uintptr_t pc)
{
	uintptr_t base = 0;
	size_t len = 0;

	if (!stack_extent(batch.maps, batch.nmaps, sp, &base, &len))
		sl->readable = 1;
	scan_frames(batch.r, batch.n, pc, (const uint8_t *)base, len, slot_hit, sl);
}

static void on_sample_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	pid_t me;

	(void)sig;
	if (si->si_code != SI_TKILL || si->si_pid != getpid())
		goto out;
	me = (pid_t)syscall(SYS_gettid);
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *sl = &slots[i];
		uint64_t st = __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE), t0;
		uint64_t busy = (st & ~3ull) | PH_BUSY;

		if ((st & 3) != PH_ARMED || sl->tid != me ||
		    !__atomic_compare_exchange_n(&sl->state, &st, busy, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		t0 = hp_clock_ns(CLOCK_MONOTONIC);
		sl->pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
		scan_own_stack(sl, (uintptr_t)uc->uc_mcontext.gregs[REG_RSP], sl->pc);
		sl->pause_ns = hp_clock_ns(CLOCK_MONOTONIC) - t0;
		__atomic_store_n(&sl->state, (busy & ~3ull) | PH_DONE, __ATOMIC_RELEASE);
		syscall(SYS_futex, &sl->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		/* Others of the batch still to answer may be waiting for this
		 * CPU (more busy threads than cores): let them have it now
		 * rather than after this thread's time slice. Measured with 3
		 * busy workers on 2 cores, the look's median went from about
		 * 3 ms to under 1 ms. */
		for (size_t j = 0; j < SLOTS; j++)
			if ((__atomic_load_n(&slots[j].state, __ATOMIC_ACQUIRE) & 3) == PH_ARMED) {
				syscall(SYS_sched_yield);
				break;
			}
		break;
	}
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

/* scan_frames' callback into the report, for one thread. */
struct report_ctx {
	struct hp_active_report *out;
	pid_t tid;
};

static int report_hit(void *ctx, size_t range, int executing)
{
	struct report_ctx *c = ctx;

	return add_hit(c->out, c->tid, range, executing);
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

/* Signals the running threads tids[0..k) (k <= SLOTS) at once and takes
 * in what their handlers found. */
static int signal_batch(const pid_t *tids, size_t k, int sig, struct hp_active_report *out)
{
	uint64_t gen[SLOTS], deadline;
	int resolved[SLOTS] = {0}, ret = 0;
	size_t left = k;

	for (size_t i = 0; i < k; i++) {
		struct slot *sl = &slots[i];

		gen[i] = (__atomic_load_n(&sl->state, __ATOMIC_RELAXED) >> 2) + 1;
		sl->tid = tids[i];
		sl->nhits = sl->overflow = 0;
		sl->readable = 0;
		__atomic_store_n(&sl->state, gen[i] << 2 | PH_ARMED, __ATOMIC_RELEASE);
	}
	for (size_t i = 0; i < k; i++)
		if (syscall(SYS_tgkill, getpid(), tids[i], sig) < 0) {
			int e = errno;
			uint64_t st = gen[i] << 2 | PH_ARMED;

			if (__atomic_compare_exchange_n(&slots[i].state, &st, gen[i] << 2 | PH_IDLE,
							0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				resolved[i] = 1;
				left--;
				if (e == ESRCH)
					out->threads--; /* exited meanwhile */
				else
					note_unchecked(out, tids[i], "the sampling signal failed");
			}
		}
	deadline = hp_clock_ns(CLOCK_MONOTONIC) + SIGNAL_WAIT_NS;
	while (left) {
		size_t wait_on = SLOTS;

		for (size_t i = 0; i < k; i++) {
			struct slot *sl = &slots[i];
			uint64_t st;

			if (resolved[i])
				continue;
			st = __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE);
			if (st == (gen[i] << 2 | PH_DONE)) {
				resolved[i] = 1;
				left--;
				out->signalled++;
				out->pause_ns_total += sl->pause_ns;
				if (sl->pause_ns > out->pause_ns_max)
					out->pause_ns_max = sl->pause_ns;
				if (!sl->readable) {
					note_unchecked(out, sl->tid, "its stack could not be read");
					continue;
				}
				out->checked++;
				if (sl->overflow)
					note_unchecked(out, sl->tid,
						       "more old-code frames than one look lists");
				for (unsigned h = 0; h < sl->nhits && !ret; h++)
					ret = add_hit(out, sl->tid, sl->hits[h].range,
						      sl->hits[h].executing);
				continue;
			}
			/* Give up only while the handler has not started: once
			 * BUSY it finishes without waiting on anything. */
			if (st == (gen[i] << 2 | PH_ARMED) &&
			    hp_clock_ns(CLOCK_MONOTONIC) >= deadline &&
			    __atomic_compare_exchange_n(&sl->state, &st, gen[i] << 2 | PH_IDLE, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				resolved[i] = 1;
				left--;
				note_unchecked(out, sl->tid, "did not answer the sampling signal");
				continue;
			}
			if (wait_on == SLOTS)
				wait_on = i;
		}
		if (left && wait_on < SLOTS) {
			struct timespec ts = {0, 1000000};
			uint64_t st = __atomic_load_n(&slots[wait_on].state, __ATOMIC_ACQUIRE);

			syscall(SYS_futex, &slots[wait_on].state, FUTEX_WAIT_PRIVATE, (uint32_t)st,
				&ts, NULL, 0);
		}
	}
	return ret;
}

int hp_active_scan(const struct hp_code_range *r, size_t n, struct hp_active_report *out)
{
	struct hp_code_range *maps = NULL;
	pid_t self = (pid_t)syscall(SYS_gettid), *running = NULL;
	size_t nmaps = 0, nrunning = 0, cap = 0;
	struct dirent *de;
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
	uint64_t t0 = hp_clock_ns(CLOCK_MONOTONIC);
	/* Threads blocked in the kernel are read as they are; the running
	 * ones are signalled together afterwards. */
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
			if (nrunning == cap) {
				pid_t *g =
					realloc(running, (cap = cap ? 2 * cap : 16) * sizeof(*g));

				if (!g) {
					ret = -ENOMEM;
					break;
				}
				running = g;
			}
			running[nrunning++] = tid;
			continue;
		}
		if (got == -ESRCH || got == -ENOENT) { /* exited meanwhile */
			out->threads--;
			continue;
		}
		if (got) {
			note_unchecked(out, tid, "its stack could not be read");
			continue;
		}
		out->checked++;
		if ((ret = scan_frames(r, n, pc, stack_buf, len, report_hit,
				       &(struct report_ctx){out, tid})))
			break;
	}
	closedir(d);
	batch.r = r;
	batch.n = n;
	batch.maps = maps;
	batch.nmaps = nmaps;
	for (size_t i = 0; !ret && i < nrunning; i += SLOTS)
		ret = signal_batch(running + i, nrunning - i < SLOTS ? nrunning - i : SLOTS, sig,
				   out);
	out->scan_ns = hp_clock_ns(CLOCK_MONOTONIC) - t0;
unlock:
	pthread_mutex_unlock(&scan_lock);
	free(running);
	free(maps);
	return ret;
}

void hp_active_report_free(struct hp_active_report *r)
{
	free(r->hits);
	r->hits = NULL;
	r->nhits = r->cap = 0;
}
