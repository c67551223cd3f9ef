/* The control listener: one thread blocked in accept() on a Unix socket,
 * so an idle engine pays nothing, and nothing runs on its threads' paths.
 *
 * Apply and revert run on a short-lived worker thread so the listener can
 * keep answering: a second apply meanwhile gets "busy" at once instead of
 * queueing behind the first. list/status are answered by the listener. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hp_internal.h"
#include "hp_json.h"
#include "hp_wire.h"

static pthread_mutex_t listener_lock = PTHREAD_MUTEX_INITIALIZER;
static int listen_fd = -1;
static pid_t listen_pid;
static pthread_t listener;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
/* Why the last hp_listener_start() failed, with the path it tried. */
static char listen_err[320];

/* One descriptor kept in reserve (a duplicate of the listening socket), so
 * that an engine at RLIMIT_NOFILE still gets its control connections
 * answered. accept() takes a descriptor number before it waits, so a
 * listener that comes back to accept() with none free fails at once
 * (EMFILE); it then lets the reserve go and waits in accept() on its
 * number, and a connection's thread turns the connection it closes into
 * the reserve (free_conn). Without it a client would wait in
 * the backlog until its timeout, told nothing. */
static int reserve_fd = -1;

const char *hp_listener_path(void)
{
	return listen_fd >= 0 ? sock_path : "(not listening)";
}

/* RLIMIT_NOFILE's soft limit, capped where poll() could not look. */
static unsigned fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 1u << 30)
		return 1u << 30;
	return (unsigned)rl.rlim_cur;
}

/* How many descriptors could still be opened, counted up to need, without
 * opening any (which could take the last one from the engine): poll()
 * says POLLNVAL for every number that is not open. One of those is not
 * free, though: the kernel takes the number for accept()'s descriptor
 * before it waits, so the listener blocked in accept() holds one that
 * nothing shows. Costs one poll() per 256 open descriptors; used only on
 * failures and in status. */
static unsigned fd_room(unsigned need)
{
	unsigned limit = fd_limit(), room = 0, held = listen_fd >= 0;
	struct pollfd pf[256];

	need += held;
	for (unsigned base = 0; base < limit && room < need; base += 256) {
		unsigned n = limit - base < 256 ? limit - base : 256;

		for (unsigned i = 0; i < n; i++)
			pf[i] = (struct pollfd){.fd = (int)(base + i)};
		while (poll(pf, n, 0) < 0)
			if (errno != EINTR)
				return need; /* cannot tell: say nothing */
		for (unsigned i = 0; i < n; i++)
			room += !!(pf[i].revents & POLLNVAL);
	}
	return room > held ? room - held : 0;
}

/* Descriptors an operation opens at once at most, besides the connection
 * and the package: apply the sealed copy and the loader's (or
 * /proc/self/maps'), revert /proc/self/maps (the old-code scan opens
 * /proc/self/maps, /proc/self/task and one file in it, and says itself
 * when it cannot). */
#define HP_FDS_APPLY 2
#define HP_FDS_REVERT 1

/* Appends to msg (one line) that the process is at its descriptor limit,
 * when it has fewer than need free: most of the steps that open one only
 * say that they failed. */
static void note_fd_limit(char *msg, size_t len, unsigned need, const char *what)
{
	unsigned room = fd_room(need);
	size_t n = strlen(msg);

	if (room >= need || strstr(msg, "RLIMIT_NOFILE") || n + 1 >= len)
		return;
	snprintf(msg + n, len - n,
		 "%sthe process is at its file descriptor limit (RLIMIT_NOFILE %u, %u free; %s "
		 "needs up to %u more)",
		 n ? ": " : "", fd_limit(), room, what, need);
}

/* Gives the reserve a number again, for the listener (after a failed
 * accept). It only tries the lock: hp_listener_stop() holds it while it
 * waits for the listener to end. */
static void reserve_refill(void)
{
	int saved = errno;

	if (pthread_mutex_trylock(&listener_lock))
		return;
	if (listen_fd >= 0 && __atomic_load_n(&reserve_fd, __ATOMIC_ACQUIRE) < 0) {
		int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0), none = -1;

		if (fd >= 0 && !__atomic_compare_exchange_n(&reserve_fd, &none, fd, 0,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			close(fd);
	}
	pthread_mutex_unlock(&listener_lock);
	errno = saved;
}

struct conn {
	int fd;
	int pkg_fd;
	struct hp_wire_req req;
};

/* HP_WIRE_RESP_* of the replies this connection's thread sends now. */
static __thread uint32_t reply_flags;

static void reply(int fd, int status, const char *text)
{
	struct hp_wire_resp r = {HP_WIRE_MAGIC, status, text ? strlen(text) : 0, reply_flags};
	struct iovec iov[2] = {{&r, sizeof(r)}, {(void *)(text ? text : ""), r.len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

	/* A client that went away only loses its answer. */
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		return;
}

static void reply_rendered(int fd, int status, int json)
{
	char *text = NULL, warn[200] = "";
	int ret = hp_render(status, json, &text);

	/* What status cannot show in its own lines: an engine out of
	 * descriptors can be listed, but applies and reverts will fail. As
	 * text a last line, in JSON a last member "warning". */
	if (!ret && status)
		note_fd_limit(warn, sizeof(warn), HP_FDS_APPLY, "an apply");
	if (warn[0]) {
		char *more = NULL, *end = json ? strrchr(text, '}') : NULL;
		size_t mlen;
		FILE *f = open_memstream(&more, &mlen);

		if (f && json && end) {
			fwrite(text, 1, (size_t)(end - text), f);
			fputs(",\"warning\":", f);
			hp_json_str(f, warn);
			fputs("}\n", f);
		} else if (f) {
			fprintf(f, "%swarning: %s\n", text, warn);
		}
		if (f && !fclose(f)) {
			free(text);
			text = more;
		} else {
			free(more);
		}
	}
	reply(fd, ret, ret ? hp_strerror(ret) : text);
	free(text);
}

/* "applied patch N", and which of its functions a thread is inside right
 * now: those keep running their old code until they return, and for a
 * loop that never returns the fix does not take effect there. */
static void reply_applied(int fd, unsigned id, int json, const char *warning, int scan)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		reply(fd, 0, "applied (out of memory for the report)\n");
		return;
	}
	fprintf(f, json ? "{\"applied\":%u" : "applied patch %u\n", id);
	if (warning[0] && json) {
		fputs(",\"warning\":", f);
		hp_json_str(f, warning);
	} else if (warning[0])
		fprintf(f, "warning: %s\n", warning);
	if (scan)
		hp_render_old_code(f, id, json, 0);
	if (json)
		fputs("}\n", f);
	if (fclose(f))
		reply(fd, 0, "applied\n");
	else
		reply(fd, 0, text);
	free(text);
}

/* The failpoint after the patch argument (HP_WIRE_FAILPOINT). recv_req
 * terminated arg, so both strings end inside it. */
static const char *failpoint_of(const struct hp_wire_req *req)
{
	size_t n = strlen(req->arg);

	return n + 1 < sizeof(req->arg) ? req->arg + n + 1 : "";
}

static void reply_failpoints(int fd)
{
	char text[2048];
	size_t len = 0;

	for (size_t i = 0; i < hp_fp_count() && len < sizeof(text); i++) {
		const char *name = hp_fp_name(i);

		len += snprintf(text + len, sizeof(text) - len, "%.*s %s\n",
				(int)strcspn(name, "."), name, name);
	}
	reply(fd, 0, text);
}

/* One apply or revert, from taking the operation flag to the answer. */
static void run_op(struct conn *c)
{
	char err[512] = "", msg[640];
	unsigned id = 0;
	int ret, json = c->req.flags & HP_WIRE_JSON;

	struct hp_apply_opts opts = {.sz = sizeof(opts),
				     .verify_only = !!(c->req.flags & HP_WIRE_VERIFY_ONLY)};

	const char *fp = c->req.flags & HP_WIRE_FAILPOINT ? failpoint_of(&c->req) : NULL;
	int fired = 0;

	/* The operation flag is taken and given back here, on this
	 * connection's thread, and given back before the answer goes out: a
	 * client may send its next operation as soon as it has read one. */
	if (hp_op_begin()) {
		reply(c->fd, -EBUSY, "busy: another apply or revert is in progress");
		return;
	}
	if (fp && (ret = hp_fp_arm(fp, err, sizeof(err)))) {
		hp_op_end();
		reply(c->fd, ret, err);
		return;
	}
	if (c->req.op == HP_OP_APPLY)
		ret = hp_apply_locked(c->pkg_fd, &opts, &id, err, sizeof(err));
	else
		ret = hp_revert_locked(c->req.arg, &id, err, sizeof(err));
	if (fp)
		fired = hp_fp_disarm();
	hp_op_end();
	/* A failpoint the operation never reached: it did its work. Say so,
	 * or a test of that failpoint would pass for the wrong reason. */
	if (fp && !fired && !ret && !err[0])
		snprintf(err, sizeof(err), "failpoint %s was not reached", fp);
	if (ret) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", hp_strerror(ret));
		if (c->req.op == HP_OP_APPLY)
			note_fd_limit(err, sizeof(err), HP_FDS_APPLY, "an apply");
		else
			note_fd_limit(err, sizeof(err), HP_FDS_REVERT, "a revert");
		reply(c->fd, ret, err);
		return;
	}
	if (opts.verify_only && c->req.op == HP_OP_APPLY)
		snprintf(msg, sizeof(msg), json ? "{\"verified\":true}\n" : "verified\n");
	else if (c->req.op == HP_OP_APPLY)
		return reply_applied(c->fd, id, json, err, !(c->req.flags & HP_WIRE_NO_SCAN));
	else if (json)
		snprintf(msg, sizeof(msg), "{\"reverted\":%u%s}\n", id,
			 err[0] ? ",\"warning\":\"post-revert hook failed\"" : "");
	else
		snprintf(msg, sizeof(msg), "reverted patch %u\n%s%.500s%s", id,
			 err[0] ? "warning: " : "", err, err[0] ? "\n" : "");
	reply(c->fd, 0, msg);
}

/* One request of a rehearsal takes 50 ms, or within a CPU budget as long
 * as 5 ms of CPU take at its share, up to 1 s: a slice's fixed costs (the
 * round trip to the client, giving the pages their protection back, with
 * a TLB shootdown of every core) stay small beside its cycles even at
 * 1 % of one CPU, where 50 ms would hold about five. The client's
 * receive timeout holds, and an interrupted CLI stops the rehearsal
 * within a second. */
#define HP_REHEARSE_SLICE_NS 50000000ull
#define HP_REHEARSE_SLICE_CPU_NS 5000000ull
#define HP_REHEARSE_SLICE_MAX_NS 1000000000ull
#define HP_REHEARSE_MAX 100000000ul

static uint64_t slice_ns(uint32_t budget)
{
	uint64_t ns;

	if (!budget || budget >= 10000)
		return HP_REHEARSE_SLICE_NS;
	ns = HP_REHEARSE_SLICE_CPU_NS * 10000u / budget;
	return ns < HP_REHEARSE_SLICE_NS       ? HP_REHEARSE_SLICE_NS
	       : ns > HP_REHEARSE_SLICE_MAX_NS ? HP_REHEARSE_SLICE_MAX_NS
					       : ns;
}

/* Keeps the slice within its CPU budget (hp_wire_req.param, hundredths of
 * a percent of one CPU): sleeps until the thread's CPU time since the
 * slice began is no more than the budget's share of the time since then
 * (at most 1 s at once, so the reply stays well within the client's
 * timeout; the slice may end that much after its time). Even SCHED_IDLE
 * work costs the program: a CPU that runs it never idles, and on a 2-core
 * VM a bare SCHED_IDLE spin loop beside the sample engine under load took
 * 5-7 % of its throughput. */
static void keep_to_budget(uint32_t budget, uint64_t wall0, uint64_t cpu0)
{
	uint64_t used = hp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	uint64_t due = wall0 + used * 10000u / budget, now = hp_clock_ns(CLOCK_MONOTONIC);

	if (due > now + 1000000000u)
		due = now + 1000000000u;
	if (due > now) {
		struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			; /* a signal (the old-code look's) cuts no sleep short */
	}
}

/* HP_OP_REHEARSE: apply+revert cycles here, without a round trip to the
 * client for each (four context switches and a socket message each, most
 * of a cycle's cost). Each cycle is the whole apply (the package read from
 * its descriptor, verified, loaded, the code written) and the revert of
 * exactly that patch, without the stack look. The operation flag is held
 * for the slice: another apply meanwhile gets "busy", as it would between
 * two cycles of the client's, and the pages stay writable (hp_slice_begin). */
static void run_rehearsal(struct conn *c)
{
	char err[512] = "", msg[640], *end;
	unsigned long want, done = 0;
	uint64_t wall0 = hp_clock_ns(CLOCK_MONOTONIC), cpu0 = hp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint32_t budget = c->req.param;
	uint64_t until = wall0 + slice_ns(budget);
	int ret = 0, applied_left = 0;
	unsigned id = 0;

	errno = 0;
	want = strtoul(c->req.arg, &end, 10);
	if (errno || *end || end == c->req.arg || want < 1 || want > HP_REHEARSE_MAX) {
		reply(c->fd, -HP_EPROTO, "rehearse: cycle count out of range");
		return;
	}
	if (hp_op_begin()) {
		reply(c->fd, -EBUSY, "cycle 1: busy: another apply or revert is in progress");
		return;
	}
	hp_slice_begin();
	while (done < want && !ret) {
		char patch[16];

		ret = hp_apply_locked(c->pkg_fd, NULL, &id, err, sizeof(err));
		if (ret)
			break;
		snprintf(patch, sizeof(patch), "%u", id);
		ret = hp_revert_locked(patch, NULL, err, sizeof(err));
		if (ret) {
			applied_left = 1;
			break;
		}
		done++;
		if (budget && budget < 10000)
			keep_to_budget(budget, wall0, cpu0);
		if (hp_clock_ns(CLOCK_MONOTONIC) >= until)
			break;
	}
	hp_slice_end();
	hp_op_end();
	if (!ret) {
		snprintf(msg, sizeof(msg), "rehearsed %lu, cpu %llu ns\n", done,
			 (unsigned long long)(hp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0));
		reply(c->fd, 0, msg);
		return;
	}
	if (!err[0])
		snprintf(err, sizeof(err), "%s", hp_strerror(ret));
	if (applied_left)
		snprintf(msg, sizeof(msg), "cycle %lu: patch %u is still applied: %s", done + 1, id,
			 err);
	else
		snprintf(msg, sizeof(msg), "cycle %lu: the apply failed: %s", done + 1, err);
	note_fd_limit(msg, sizeof(msg), HP_FDS_APPLY, "an apply");
	reply(c->fd, ret, msg);
}

/* Closes the connection; when the reserve is empty its number becomes the
 * reserve at once (dup3 replaces the connection in one step, so no other
 * thread of an engine at its limit can take the number in between). */
static void free_conn(struct conn *c)
{
	int none = -1;

	if (c->pkg_fd >= 0)
		close(c->pkg_fd);
	pthread_mutex_lock(&listener_lock);
	if (listen_fd >= 0 && __atomic_load_n(&reserve_fd, __ATOMIC_ACQUIRE) < 0 &&
	    dup3(listen_fd, c->fd, O_CLOEXEC) == c->fd &&
	    __atomic_compare_exchange_n(&reserve_fd, &none, c->fd, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		c->fd = -1;
	pthread_mutex_unlock(&listener_lock);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Takes the descriptors a message carried: the first one as the package,
 * every other one closed (a client sending several must not leak any into
 * the engine). Returns how many there were. */
static int take_fds(struct conn *c, struct msghdr *mh)
{
	int count = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++, count++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->pkg_fd < 0)
				c->pkg_fd = fd;
			else
				close(fd);
		}
	}
	return count;
}

/* Receives the request and, for apply, exactly one descriptor; why says
 * what was wrong when it returns -HP_EPROTO or -EMFILE. */
static int recv_req(struct conn *c, char *why, size_t len)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {&c->req, sizeof(c->req)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);

	snprintf(why, len, "malformed or incompatible control request");
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA; /* the client closed the connection */
	int fds = take_fds(c, &mh);
	if (n != sizeof(c->req) || (mh.msg_flags & MSG_TRUNC) || c->req.magic != HP_WIRE_MAGIC ||
	    c->req.version != HP_WIRE_VERSION)
		return -HP_EPROTO;
	c->req.arg[sizeof(c->req.arg) - 1] = 0;
	/* The kernel drops descriptors it cannot install here (the engine at
	 * RLIMIT_NOFILE) and says so with MSG_CTRUNC. */
	if ((mh.msg_flags & MSG_CTRUNC) && !fds) {
		snprintf(why, len,
			 "the process has no free file descriptor to receive the package "
			 "(RLIMIT_NOFILE %u reached)",
			 fd_limit());
		return -EMFILE;
	}
	if (fds > 1 || (mh.msg_flags & MSG_CTRUNC)) {
		snprintf(why, len, "one package descriptor expected, the request carried %d%s", fds,
			 (mh.msg_flags & MSG_CTRUNC) ? " or more" : "");
		return -HP_EPROTO;
	}
	if ((c->req.op == HP_OP_APPLY || c->req.op == HP_OP_REHEARSE) && c->pkg_fd < 0) {
		snprintf(why, len, "an apply request without a package descriptor");
		return -HP_EPROTO;
	}
	return 0;
}

static int peer_allowed(int fd, char *why, size_t len)
{
	struct ucred cred;
	socklen_t sl = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0) {
		snprintf(why, len, "cannot read peer credentials: %s", strerror(errno));
		return 0;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	snprintf(why, len, "permission denied: peer uid %u is neither root nor the owner (uid %u)",
		 (unsigned)cred.uid, (unsigned)geteuid());
	return 0;
}

/* The control threads (the listener and, inheriting it, each
 * connection's) run 10 nice levels above the program's own threads
 * when the process may raise one: an apply then takes its few dozen
 * microseconds of CPU at once instead of waiting out the time slices of
 * busy workers at every system call. They sleep otherwise, so the program
 * loses nothing. Without the privilege (CAP_SYS_NICE or RLIMIT_NICE) they
 * stay as they are. HOTPATCH_CONTROL_NICE=0 keeps them at the program's. */
#define HP_CONTROL_BOOST 10

/* Sets this thread's nice value to the program's (its main thread's)
 * minus boost, within -20; nothing when either cannot be done. */
static void set_control_priority(int boost)
{
	int main_nice;

	errno = 0;
	main_nice = getpriority(PRIO_PROCESS, (id_t)getpid());
	if (errno)
		return;
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			  main_nice - boost < -20 ? -20 : main_nice - boost);
}

/* rehearse --priority lowest: the cycles take only the CPU the program
 * leaves, SCHED_IDLE for the life of this connection's thread (an
 * unprivileged thread could not come back from it). Not nice 19: a nice-19
 * thread, once picked, keeps its CPU for a whole time slice while the
 * program's threads wake and wait (measured under hpload: 0.915 of the
 * throughput without the loop, at 400 cycles/s), where any waking thread
 * of another policy preempts a SCHED_IDLE one at once. Yet even that took
 * 0.906 at 178 cycles/s, as much as a bare SCHED_IDLE spin loop does on
 * this 2-core VM (a CPU that never idles costs the program), and beside a
 * program that leaves no CPU idle it crawls: so not the default, which is
 * the program's priority within a CPU budget. Nice 19 where the kernel has
 * no SCHED_IDLE. */
static void set_idle_priority(void)
{
	struct sched_param sp = {0};

	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
}

/* Relative to the program's: a program run under nice keeps its control
 * threads below the rest of the machine as well. */
static void raise_control_priority(void)
{
	const char *env = getenv("HOTPATCH_CONTROL_NICE");

	if (!env || strcmp(env, "0") != 0)
		set_control_priority(HP_CONTROL_BOOST);
}

/* HOTPATCH_TEST_OLD_CONTROL=1: answer HP_OP_REHEARSE as runtimes from
 * before it do, so tests can see the CLI fall back to its own loop. */
static int old_control;

/* Connections being served, each on its own thread: a client that
 * connects and says nothing waits out its 5 s receive timeout on its own
 * thread, not in front of everyone else's list or apply. Past the cap,
 * new connections are turned away at once. */
#define HP_MAX_CONNECTIONS 16
static unsigned connections;

/* One connection, on its own thread: peer check, request, answer; apply and
 * revert run here too, one at a time (the operation flag is taken and
 * released on this thread), while list and status are answered on other
 * connections' threads meanwhile. */
static void serve(struct conn *c)
{
	struct timeval tv = {5, 0};
	int fd = c->fd;
	char why[160];
	int ret;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(fd, why, sizeof(why))) {
		reply(fd, -EPERM, why);
		goto done;
	}
	/* One request, or (HP_WIRE_SESSION) as many as the client sends until
	 * it closes or keeps quiet for the receive timeout. */
	for (int first = 1;; first = 0) {
		reply_flags = 0;
		ret = recv_req(c, why, sizeof(why));
		if (!first && (ret == -ENODATA || ret == -EAGAIN || ret == -EWOULDBLOCK))
			break;
		if (ret) {
			reply(fd, ret,
			      ret == -HP_EPROTO || ret == -EMFILE || ret == -ENODATA
				      ? why
				      : hp_strerror(ret));
			break;
		}
		if (first && c->req.op == HP_OP_REHEARSE && (c->req.flags & HP_WIRE_IDLE_PRIORITY))
			set_idle_priority();
		else if (first && (c->req.flags & HP_WIRE_SESSION))
			/* A session is a rehearsal: at the program's priority,
			 * not the boost, or it would take the CPU from the
			 * program's own threads (its budget bounds how much). */
			set_control_priority(0);
		if (c->req.flags & HP_WIRE_SESSION)
			reply_flags = HP_WIRE_RESP_OPEN;
		switch (c->req.op) {
		case HP_OP_LIST:
		case HP_OP_STATUS:
			reply_rendered(fd, c->req.op == HP_OP_STATUS, c->req.flags & HP_WIRE_JSON);
			break;
		case HP_OP_FAILPOINTS:
			reply_failpoints(fd);
			break;
		case HP_OP_APPLY:
		case HP_OP_REVERT:
			run_op(c);
			break;
		case HP_OP_REHEARSE:
			if (!old_control) {
				run_rehearsal(c);
				break;
			}
			/* answered as a runtime from before it */
			__attribute__((fallthrough));
		default:
			reply(fd, -HP_EPROTO, "unknown control operation");
			goto done;
		}
		if (!reply_flags)
			break;
		if (c->pkg_fd >= 0)
			close(c->pkg_fd);
		c->pkg_fd = -1;
	}
done:
	free_conn(c);
}

static void *conn_main(void *arg)
{
	serve(arg);
	__atomic_fetch_sub(&connections, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void handle(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->pkg_fd = -1;
	if (__atomic_add_fetch(&connections, 1, __ATOMIC_RELAXED) > HP_MAX_CONNECTIONS) {
		reply(fd, -EBUSY, "busy: too many control connections open");
		goto fail;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = -pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (!ret)
		return;
	reply(fd, ret, "cannot start a thread for the connection");
fail:
	__atomic_fetch_sub(&connections, 1, __ATOMIC_RELAXED);
	free_conn(c);
}

/* A connection accepted into the reserve's slot when the process has no
 * other (EMFILE, ENFILE), or -1 with errno set. */
static int accept_reserved(int lfd)
{
	int spare = __atomic_exchange_n(&reserve_fd, -1, __ATOMIC_ACQ_REL), fd;

	if (spare < 0) {
		errno = EMFILE;
		return -1;
	}
	close(spare);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) /* another thread of the engine took the slot first */
		reserve_refill();
	return fd;
}

static void *listener_main(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	raise_control_priority();
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0 && (errno == EMFILE || errno == ENFILE))
			fd = accept_reserved(lfd);
		if (fd >= 0) {
			handle(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
		    errno == ENOBUFS || errno == ENOMEM) {
			/* out of resources and no reserve: accept() would fail
			 * again at once, so retry soon, refilling the reserve */
			if (errno != EINTR && errno != ECONNABORTED) {
				struct timespec ts = {0, 100 * 1000 * 1000};

				nanosleep(&ts, NULL);
				reserve_refill();
			}
			continue;
		}
		return NULL; /* socket shut down by hp_listener_stop() */
	}
}

/* Our directory must be a real directory we own with mode 0700, or another
 * user could swap the socket. why names the path and what is wrong. */
static int make_dir(char *dir, size_t len, char *why, size_t whylen)
{
	const char *base = getenv("HOTPATCH_RUNDIR");
	struct stat st;
	int n;

	if (!base || !*base)
		base = "/tmp";
	n = snprintf(dir, len, "%s/hotpatch-%u", base, (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len) {
		snprintf(why, whylen,
			 "socket directory '%s/hotpatch-%u' is too long for a socket path (%zu "
			 "bytes at most, with the socket's name)",
			 base, (unsigned)geteuid(), len - 1);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create socket directory '%s': %s", dir,
			 strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) < 0) {
		snprintf(why, whylen, "cannot use socket directory '%s': %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		/* the first words are what test_badinput.sh looks for */
		snprintf(why, whylen,
			 "the socket directory is not ours or not private: '%s' must be a "
			 "directory of uid %u with mode 0700",
			 dir, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

static int open_socket(char *why, size_t whylen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path) - 16];
	int fd, ret;

	ret = make_dir(dir, sizeof(dir), why, whylen);
	if (ret)
		return ret;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%d.sock", dir, (int)getpid());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return ret;
	}
	unlink(sa.sun_path); /* stale socket of a dead process with our pid */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		ret = -errno;
		snprintf(why, whylen, "cannot listen on '%s': %s", sa.sun_path, strerror(errno));
		close(fd);
		unlink(sa.sun_path);
		return ret;
	}
	memcpy(sock_path, sa.sun_path, sizeof(sock_path));
	return fd;
}

HP_EXPORT int hp_listener_start(void)
{
	sigset_t all, old;
	int fd, ret = 0;

	pthread_mutex_lock(&listener_lock);
	if (listen_fd >= 0 && listen_pid == getpid())
		goto unlock;
	fd = open_socket(listen_err, sizeof(listen_err));
	if (fd < 0) {
		ret = fd;
		goto unlock;
	}
	/* The listener must never take the engine's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&listener, NULL, listener_main, (void *)(intptr_t)fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(listen_err, sizeof(listen_err), "cannot start the listener thread: %s",
			 strerror(-ret));
		close(fd);
		unlink(sock_path);
		goto unlock;
	}
	/* No reserve is no failure: only an engine at its limit misses it. */
	reserve_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	listen_fd = fd;
	listen_pid = getpid();
unlock:
	pthread_mutex_unlock(&listener_lock);
	return ret;
}

HP_EXPORT void hp_listener_stop(void)
{
	pthread_mutex_lock(&listener_lock);
	if (listen_fd >= 0 && listen_pid == getpid()) {
		unlink(sock_path);
		shutdown(listen_fd, SHUT_RDWR);
		pthread_join(listener, NULL);
		close(listen_fd);
		int spare = __atomic_exchange_n(&reserve_fd, -1, __ATOMIC_ACQ_REL);
		if (spare >= 0)
			close(spare);
	}
	listen_fd = -1;
	pthread_mutex_unlock(&listener_lock);
}

/* A fork waits for an apply or revert that is committing (the registry
 * lock), so the child's code and registry are one state or the other. */
static void atfork_prepare(void)
{
	hp_patch_atfork_prepare();
}

static void atfork_parent(void)
{
	hp_patch_atfork_parent();
}

/* In a forked child the listener thread does not exist: the child gets
 * its own socket (its own pid) and the parent's stays the parent's. */
static void atfork_child(void)
{
	pthread_mutex_init(&listener_lock, NULL);
	hp_slice_atfork_child();
	hp_patch_atfork_child();
	hp_sync_init();
	if (reserve_fd >= 0) { /* the parent's socket: not ours to hold */
		close(reserve_fd);
		reserve_fd = -1;
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
		hp_listener_start();
	}
}

__attribute__((destructor)) static void remove_socket(void)
{
	if (listen_fd >= 0 && listen_pid == getpid())
		unlink(sock_path);
}

__attribute__((constructor)) static void hp_runtime_init(void)
{
	const char *no = getenv("HOTPATCH_NO_LISTEN"), *delay;

	hp_sync_init();
	delay = getenv("HOTPATCH_TEST_APPLY_DELAY_MS");
	if (delay)
		hp_test_apply_delay_ms = (unsigned)strtoul(delay, NULL, 10);
	old_control = getenv("HOTPATCH_TEST_OLD_CONTROL") != NULL;
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	/* Before the listener exists, so no apply can run ahead of the keys. */
	const char *keys = getenv("HOTPATCH_TRUSTED_KEYS");
	if (keys) {
		char why[512];

		if (hp_trust_init(keys, why, sizeof(why)))
			fprintf(stderr,
				"hotpatch: HOTPATCH_TRUSTED_KEYS: %s; every package will be "
				"refused\n",
				why);
	}
	if (no && strcmp(no, "0") != 0)
		return;
	/* Failing to listen must not stop the engine: the C API still works,
	 * and status over the socket is simply unavailable. But say so once:
	 * a directory another user made first (EPERM) would otherwise switch
	 * live patching off without a trace. With the trusted-key message
	 * above, the only text this library prints: at start-up, on the
	 * engine's own stderr. */
	if (hp_listener_start())
		fprintf(stderr,
			"hotpatch: not listening for patches: %s; the process runs on, "
			"unpatchable from the hotpatch CLI\n",
			listen_err);
}
