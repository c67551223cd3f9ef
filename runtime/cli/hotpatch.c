/* hotpatch: the command line side of the control channel. It opens the
 * package itself and passes the descriptor, so the engine never resolves
 * a path (mount namespaces, permissions and relative paths don't matter). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hotpatch/hotpatch.h"
#include "hp_cli.h"

/* Set while rehearsing: the per-operation results are not printed. */
static int quiet;

static const char usage_text[] =
	"usage: hotpatch [--json] apply PID PKG\n"
	"       hotpatch [--json] revert PID [PATCH]\n"
	"       hotpatch [--json] list PID\n"
	"       hotpatch [--json] status PID\n"
	"       hotpatch rehearse [--priority lowest|program] [--cpu PCT] PID PKG [CYCLES]\n"
	"       hotpatch apply PID PID... PKG\n"
	"       hotpatch apply --exe EXE PKG\n"
	"       hotpatch revert --exe EXE [PATCH]\n"
	"       hotpatch list --exe EXE | status --exe EXE\n"
	"       hotpatch keygen PREFIX\n"
	"       hotpatch [--json] verify PKG [--key PUB]... [--keys DIR]\n"
	"       hotpatch --parallel N apply|revert|list|status ... (groups)\n"
	"       hotpatch --timeout S ... (seconds to wait for one process, default 60)\n"
	"       hotpatch failpoints PID\n"
	"       hotpatch [--json] batch   (commands on stdin, one per line)\n"
	"       hotpatch apply --failpoint NAME PID PKG\n"
	"       hotpatch revert --failpoint NAME PID [PATCH]\n"
	"\n"
	"Applies, reverts and shows live patches in process PID, which must run\n"
	"libhotpatch (linked in or LD_PRELOADed). PATCH is an id or name shown by\n"
	"list; without it revert undoes the most recent patch.\n"
	"With several PIDs or --exe EXE (every process whose executable is EXE),\n"
	"apply is all or nothing: the package is verified in every process first,\n"
	"and if one apply fails the ones done are reverted. Processes of EXE\n"
	"without the runtime, or that exit before the apply, are listed as\n"
	"skipped; one the CLI may not patch fails the apply. --parallel N (1..256,\n"
	"default 16) bounds the requests a group has in flight.\n"
	"rehearse applies and reverts PKG CYCLES times (default 1) and leaves the\n"
	"process unpatched: a rehearsal of a patch under the process's real load.\n"
	"The process runs the cycles itself, at its own priority and within PCT\n"
	"percent of one CPU (--cpu, default 1; 100: no limit), so its threads keep\n"
	"the CPU; --priority lowest runs them as SCHED_IDLE, only on CPU time its\n"
	"threads leave (no limit unless --cpu).\n"
	"keygen writes an Ed25519 key pair: PREFIX.key (secret, mode 0600) and\n"
	"PREFIX.pub; sign with mkpatch --sign PREFIX.key. A process started with\n"
	"HOTPATCH_TRUSTED_KEYS=DIR (a directory of .pub files) accepts only\n"
	"packages signed by one of them. verify checks PKG offline (structure,\n"
	"checksum, signature) and, given keys, that one of them signed it.\n"
	"batch reads apply, revert, list, status and failpoints commands of one\n"
	"PID from stdin, one per line (words as on the command line, quotes\n"
	"allowed), and answers each with its output and a line 'ok' or\n"
	"'error: REASON'; its exit status is the worst of theirs.\n"
	"failpoints lists the named steps of apply and revert; --failpoint NAME\n"
	"(or NAME:N, its Nth hit) makes exactly that step fail once, for tests\n"
	"that every failure leaves the process as it was.\n"
	"\n"
	"  --json     print results as JSON\n"
	"  --help     show this help\n"
	"  --version  show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

/* While hotpatch batch runs a command: where its failure goes, to be
 * said in the command's "error:" line (an exchange or a group may point
 * fail() at buffers of their own meanwhile; this is the fallback). */
static char batch_why[640];
static int in_batch;

int usage_error(const char *fmt, ...)
{
	va_list ap;

	if (in_batch) {
		va_start(ap, fmt);
		vsnprintf(batch_why, sizeof(batch_why), fmt, ap);
		va_end(ap);
		return EXIT_USAGE;
	}
	fputs("hotpatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'hotpatch --help'.\n", stderr);
	return EXIT_USAGE;
}

/* Where fail() puts its message while a group collects the answers of
 * many processes before it says anything. */
static char *fail_buf;
static size_t fail_len;

void fail_into(char *buf, size_t len)
{
	fail_buf = buf;
	fail_len = len;
}

int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (fail_buf) {
		vsnprintf(fail_buf, fail_len, fmt, ap);
	} else if (in_batch) {
		vsnprintf(batch_why, sizeof(batch_why), fmt, ap);
	} else {
		fputs("hotpatch: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
	return EXIT_FAIL;
}

int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = v;
	return 0;
}

/* The socket lives in the directory of the uid the process runs as. */
int socket_path(pid_t pid, char *buf, size_t len, uid_t *owner)
{
	const char *base = getenv("HOTPATCH_RUNDIR");
	char proc[64];
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
	if (stat(proc, &st) < 0)
		return fail("no process with PID %d", (int)pid);
	*owner = st.st_uid;
	snprintf(buf, len, "%s/hotpatch-%u/%d.sock", base && *base ? base : "/tmp",
		 (unsigned)st.st_uid, (int)pid);
	/* A process that started as root and then changed its user (nginx's
	 * workers drop to nobody after fork) made its socket in root's
	 * directory, which only root can have filled. */
	if (st.st_uid != 0 && access(buf, F_OK) != 0) {
		char root_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
		snprintf(root_sock, sizeof(root_sock), "%s/hotpatch-0/%d.sock",
			 base && *base ? base : "/tmp", (int)pid);
		if (access(root_sock, F_OK) == 0)
			snprintf(buf, len, "%s", root_sock);
	}
	return 0;
}

/* Before anything is sent: the socket's directory is a real directory of
 * the target's user that nobody else can write to, so no other user can
 * have put a listener of theirs there (one who made the directory before
 * the server started would otherwise receive the package and answer
 * "applied"). */
static int check_socket_dir(pid_t pid, const char *sock, uid_t owner)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	if (lstat(dir, &st) < 0)
		return 0; /* missing or out of reach: connect() says which */
	if (!S_ISDIR(st.st_mode) || (st.st_uid != owner && st.st_uid != 0) || (st.st_mode & 022))
		return fail(
			"refusing to talk to process %d: '%s' is not a directory of uid %u "
			"(or root) that only its owner can write (another user may have made it)",
			(int)pid, dir, (unsigned)owner);
	return 0;
}

/* After connect, before anything is sent: the listener is the target
 * process itself, running as root or as the target's user. */
static int check_listener(int fd, pid_t pid, uid_t owner)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return fail("cannot check the listener of process %d: %s", (int)pid,
			    strerror(errno));
	if ((cred.uid != 0 && cred.uid != owner) || cred.pid != pid)
		return fail("refusing to talk to process %d: its socket is held by process %d of "
			    "uid %u, not by the process itself",
			    (int)pid, (int)cred.pid, (unsigned)cred.uid);
	return 0;
}

/* The value of name in pid's environment as it was at exec, copied to
 * buf; NULL when it is not set or cannot be read (another user's). */
static const char *env_of(pid_t pid, const char *name, char *buf, size_t len)
{
	static char env[1 << 17];
	size_t nlen = strlen(name), have = 0;
	const char *found = NULL;
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (have < sizeof(env) - 1 && (n = read(fd, env + have, sizeof(env) - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	env[have] = 0;
	for (const char *e = env; e < env + have; e += strlen(e) + 1)
		if (strncmp(e, name, nlen) == 0 && e[nlen] == '=') {
			snprintf(buf, len, "%s", e + nlen + 1);
			found = buf;
		}
	return found;
}

/* 1 when pid has libhotpatch.so mapped, 0 when it has not, -1 when its
 * maps cannot be read (the runtime may also be linked in statically). */
static int maps_runtime(pid_t pid)
{
	char path[64], line[4096];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/libhotpatch.so") != NULL;
	fclose(f);
	return found;
}

/* What is wrong with path, whose connect() failed with err: the first of
 * its directories that is missing or not a directory, if any. */
static void path_problem(const char *path, int err, char *why, size_t len)
{
	char prefix[PATH_MAX];
	struct stat st;

	snprintf(why, len, "%s", strerror(err));
	if (err == ENAMETOOLONG) {
		snprintf(why, len, "the path is %zu bytes, a socket address holds at most %zu",
			 strlen(path), sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return;
	}
	for (const char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(slash - path), path);
		if (lstat(prefix, &st) < 0) {
			snprintf(why, len, "'%s': %s", prefix, strerror(errno));
			return;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(why, len, "'%s' is not a directory", prefix);
			return;
		}
	}
}

/* pid has no socket at path (connect: err): whether it runs the runtime at
 * all, was told not to listen, or its runtime could not make the socket
 * (it said why on its stderr at start; the CLI sees the same path). */
static int no_socket(pid_t pid, const char *path, int err)
{
	char why[PATH_MAX + 64], val[256], ours[256];
	const char *base = getenv("HOTPATCH_RUNDIR");
	int runtime = maps_runtime(pid);

	if (runtime == 0)
		return fail("process %d runs no hotpatch runtime (nothing listening on %s; "
			    "start it with libhotpatch linked or LD_PRELOADed)",
			    (int)pid, path);
	if (env_of(pid, "HOTPATCH_NO_LISTEN", val, sizeof(val)) && strcmp(val, "0") != 0)
		return fail("process %d has no control socket: it was started with "
			    "HOTPATCH_NO_LISTEN=%s",
			    (int)pid, val);
	path_problem(path, err, why, sizeof(why));
	snprintf(ours, sizeof(ours), "%s", base && *base ? base : "/tmp");
	if (!env_of(pid, "HOTPATCH_RUNDIR", val, sizeof(val)) || !*val)
		snprintf(val, sizeof(val), "/tmp");
	if (runtime > 0 && strcmp(val, ours) != 0)
		return fail("process %d has no control socket at %s (%s): it runs with "
			    "HOTPATCH_RUNDIR=%s, this command with %s",
			    (int)pid, path, why, val, ours);
	if (runtime > 0)
		return fail("process %d has no control socket at %s (%s): its runtime could not "
			    "create it and said why on its stderr at start",
			    (int)pid, path, why);
	return fail("process %d has no control socket at %s (%s): it runs no hotpatch "
		    "runtime, or its runtime could not create the socket",
		    (int)pid, path, why);
}

static int connect_to(pid_t pid, int *fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[PATH_MAX];
	uid_t owner = 0;
	int ret = socket_path(pid, path, sizeof(path), &owner);

	if (ret)
		return ret;
	if (strlen(path) >= sizeof(sa.sun_path))
		return no_socket(pid, path, ENAMETOOLONG);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ret = check_socket_dir(pid, sa.sun_path, owner);
	if (ret)
		return ret;
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return fail("socket: %s", strerror(errno));
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ret = check_listener(*fd, pid, owner);
		if (ret)
			close(*fd);
		return ret;
	}
	ret = errno;
	close(*fd);
	if (ret == ECONNREFUSED)
		return fail(
			"process %d is not listening: %s is left over from a process that "
			"ended (its runtime crashed or stopped listening, or the PID was reused)",
			(int)pid, sa.sun_path);
	if (ret == ENOENT || ret == ENOTDIR || ret == ENAMETOOLONG)
		return no_socket(pid, sa.sun_path, ret);
	if (ret == EACCES || ret == EPERM)
		return fail("permission denied connecting to process %d (%s): only its owner "
			    "or root may patch it",
			    (int)pid, sa.sun_path);
	return fail("cannot connect to %s: %s", sa.sun_path, strerror(ret));
}

static int send_req(int fd, const struct hp_wire_req *req, int pkg_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *)req, sizeof(*req)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (pkg_fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pkg_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*req) ? 0 : -1;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

unsigned cli_timeout = 60;

int exchange_begin(struct exchange *x, struct hp_wire_req *req, int pkg_fd)
{
	int reused = x->fd >= 0;

	if (!reused) {
		fail_into(x->why, sizeof(x->why));
		x->ret = connect_to(x->pid, &x->fd);
		fail_into(NULL, 0);
		if (x->ret) {
			x->fd = -1;
			return x->ret;
		}
	}
	req->magic = HP_WIRE_MAGIC;
	req->version = HP_WIRE_VERSION;
	x->op = req->op;
	x->kept = 0;
	if (cli_timeout && !reused) {
		/* A stopped or stuck process must not hold the command forever
		 * (groups wait in poll(), bounded by their own members). */
		struct timeval tv = {.tv_sec = cli_timeout};

		setsockopt(x->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	/* A runtime that refuses us answers without reading the request, so
	 * a failed send may still have a reply waiting: read it first. */
	x->send_err = send_req(x->fd, req, pkg_fd) < 0 ? errno : 0;
	return 0;
}

/* Records a failure of x's exchange, closing its connection. */
static void exchange_failed(struct exchange *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void exchange_failed(struct exchange *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	x->ret = EXIT_FAIL;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}

void exchange_end(struct exchange *x)
{
	struct hp_wire_resp resp;
	char *text;

	errno = 0;
	if (read_full(x->fd, &resp, sizeof(resp)) < 0 || resp.magic != HP_WIRE_MAGIC ||
	    resp.len > HP_WIRE_TEXT_MAX || !(text = calloc(1, resp.len + 1))) {
		int lost = x->op == HP_OP_APPLY || x->op == HP_OP_REVERT || x->op == HP_OP_REHEARSE;

		/* The answer is lost, not the operation: the runtime carries
		 * on. Only its list can say what happened. */
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && lost)
			exchange_failed(
				x,
				"no answer from process %d within %u s (stopped or stuck?): the "
				"operation may still complete; 'hotpatch list %d' shows whether "
				"it did",
				(int)x->pid, cli_timeout, (int)x->pid);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			exchange_failed(x,
					"no answer from process %d within %u s (stopped or stuck?)",
					(int)x->pid, cli_timeout);
		else if (x->send_err)
			exchange_failed(x, "cannot send request to process %d: %s", (int)x->pid,
					strerror(x->send_err));
		else
			exchange_failed(
				x, "no valid reply from process %d (did it exit?)%s", (int)x->pid,
				lost ? "; if it is still running, 'hotpatch list' shows whether "
				       "the operation took place"
				     : "");
		return;
	}
	if (read_full(x->fd, text, resp.len) < 0) {
		free(text);
		exchange_failed(x, "truncated reply from process %d", (int)x->pid);
		return;
	}
	if (resp.status != 0) {
		/* The runtime's reason is one line already; keep it that way. */
		text[strcspn(text, "\n")] = 0;
		x->status = resp.status;
		exchange_failed(x, "%s", text[0] ? text : hp_strerror(resp.status));
		free(text);
		return;
	}
	x->kept = !!(resp.flags & HP_WIRE_RESP_OPEN);
	if (!x->kept) {
		close(x->fd);
		x->fd = -1;
	}
	x->reply = text;
}

/* Rehearse asks for one connection for all its requests (want_session);
 * session_fd is it while the runtime keeps it open (-1: connect for the
 * next request, as with a runtime from before sessions). */
static int want_session, session_fd = -1;

static void end_session(void)
{
	if (session_fd >= 0)
		close(session_fd);
	session_fd = -1;
	want_session = 0;
}

int transact(pid_t pid, struct hp_wire_req *req, int pkg_fd, char **reply)
{
	struct exchange x = {.pid = pid, .fd = session_fd};

	if (want_session)
		req->flags |= HP_WIRE_SESSION;
	session_fd = -1;
	if (exchange_begin(&x, req, pkg_fd) == 0)
		exchange_end(&x);
	if (x.kept)
		session_fd = x.fd;
	if (x.ret)
		return fail("%s", x.why);
	if (reply)
		*reply = x.reply;
	else if (!quiet)
		fputs(x.reply, stdout);
	if (!reply)
		free(x.reply);
	return 0;
}

/* Opens PKG for sending; refuses anything but a regular file before the
 * engine ever sees it. */
int open_package(const char *pkg, int *fd)
{
	struct stat st;

	*fd = open(pkg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return fail("cannot open '%s': %s", pkg, strerror(errno));
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		return fail("'%s' is not a regular file", pkg);
	}
	return 0;
}

/* HP_WIRE_FAILPOINT: arg is the patch (may be ""), a NUL, the failpoint. */
static int set_failpoint(struct hp_wire_req *req, const char *failpoint)
{
	size_t at = strlen(req->arg) + 1;

	if (!failpoint)
		return 0;
	if (at + strlen(failpoint) >= sizeof(req->arg))
		return usage_error("%s", "patch and failpoint names too long");
	strcpy(req->arg + at, failpoint);
	req->flags |= HP_WIRE_FAILPOINT;
	return 0;
}

static int cmd_apply(pid_t pid, const char *pkg, int flags, const char *failpoint)
{
	struct hp_wire_req req = {.op = HP_OP_APPLY, .flags = flags};
	int fd, ret;

	if ((ret = set_failpoint(&req, failpoint)))
		return ret;
	ret = open_package(pkg, &fd);
	if (ret)
		return ret;
	ret = transact(pid, &req, fd, NULL);
	close(fd);
	return ret;
}

/* One apply and the revert of exactly that patch (by the id the runtime
 * reports), so a patch someone else applies meanwhile is left alone. */
static int rehearse_once(pid_t pid, int pkg_fd, unsigned long cycle)
{
	struct hp_wire_req req = {.op = HP_OP_APPLY, .flags = HP_WIRE_NO_SCAN};
	unsigned id;
	char *reply;
	int ret;

	ret = transact(pid, &req, pkg_fd, &reply);
	if (ret)
		return fail("rehearsal stopped at cycle %lu: the apply failed", cycle);
	ret = sscanf(reply, "applied patch %u", &id);
	free(reply);
	if (ret != 1)
		return fail("rehearsal stopped at cycle %lu: unexpected apply reply", cycle);
	req = (struct hp_wire_req){.op = HP_OP_REVERT};
	snprintf(req.arg, sizeof(req.arg), "%u", id);
	quiet = 1;
	ret = transact(pid, &req, -1, NULL);
	quiet = 0;
	if (ret)
		return fail("rehearsal stopped at cycle %lu: patch %u is still applied", cycle, id);
	return 0;
}

/* How many patches the process lists (-1 when it cannot say). */
static int count_patches(pid_t pid)
{
	struct hp_wire_req req = {.op = HP_OP_LIST, .flags = HP_WIRE_JSON};
	char *reply = NULL;
	int n = 0;

	quiet = 1;
	int ret = transact(pid, &req, -1, &reply);
	quiet = 0;
	if (ret || !reply) {
		free(reply);
		return -1;
	}
	for (const char *p = reply; (p = strstr(p, "\"id\":")); p++)
		n++;
	free(reply);
	return n;
}

/* The rehearsal on the runtime's side (HP_OP_REHEARSE), a slice of cycles
 * per request on one connection. Returns 0 when all cycles are done, 1
 * when the runtime predates the operation (nothing was done: the caller
 * rehearses with its own requests), else the failure, said. */
static int rehearse_remote(pid_t pid, int pkg_fd, unsigned long cycles, int flags, uint32_t budget,
			   unsigned long long *cpu_ns)
{
	unsigned long done = 0;
	int fd = -1;

	while (done < cycles) {
		struct hp_wire_req req = {.op = HP_OP_REHEARSE,
					  .flags = HP_WIRE_SESSION | (uint32_t)flags,
					  .param = budget};
		struct exchange x = {.pid = pid, .fd = fd};
		unsigned long k, at;
		unsigned long long ns = 0;
		int n = -1;

		snprintf(req.arg, sizeof(req.arg), "%lu", cycles - done);
		fd = -1;
		if (exchange_begin(&x, &req, pkg_fd) == 0)
			exchange_end(&x);
		if (x.ret && x.status == -HP_EPROTO && done == 0 &&
		    strstr(x.why, "unknown control operation"))
			return 1;
		if (x.ret) {
			/* "cycle K: reason", K counted in this request */
			if (sscanf(x.why, "cycle %lu: %n", &at, &n) == 1 && n > 0)
				return fail("rehearsal stopped at cycle %lu: %s", done + at,
					    x.why + n);
			return fail("rehearsal stopped after %lu cycles: %s", done, x.why);
		}
		n = sscanf(x.reply, "rehearsed %lu, cpu %llu ns", &k, &ns);
		free(x.reply);
		if (n < 1 || k == 0 || k > cycles - done) {
			if (x.kept)
				close(x.fd);
			return fail("rehearsal stopped after %lu cycles: unexpected reply", done);
		}
		done += k;
		*cpu_ns += ns;
		fd = x.kept ? x.fd : -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int cmd_rehearse(pid_t pid, const char *pkg, unsigned long cycles, int idle_priority,
			uint32_t budget)
{
	unsigned long long cpu_ns = 0;
	double t0, seconds;
	int fd, ret = 0;

	ret = open_package(pkg, &fd);
	if (ret)
		return ret;
	t0 = cli_now_s();
	ret = rehearse_remote(pid, fd, cycles, idle_priority ? HP_WIRE_IDLE_PRIORITY : 0, budget,
			      &cpu_ns);
	if (ret == 1) {
		/* A runtime from before HP_OP_REHEARSE: one apply and one
		 * revert request per cycle, on one connection where it keeps
		 * one (at the program's priority either way). */
		want_session = 1;
		ret = 0;
		for (unsigned long i = 1; i <= cycles && !ret; i++)
			ret = rehearse_once(pid, fd, i);
		end_session();
	}
	seconds = cli_now_s() - t0;
	close(fd);
	if (ret)
		return ret;
	/* Only the rehearsed patch was reverted: say what the process still
	 * carries rather than claim it is unpatched. */
	int others = count_patches(pid);
	printf("rehearsed %lu apply+revert cycles in %.3f s (%.1f us per cycle", cycles, seconds,
	       seconds * 1e6 / (double)cycles);
	/* what the engine's thread took (only a runtime with HP_OP_REHEARSE
	 * says) */
	if (cpu_ns)
		printf(", %.2f %% of one CPU", (double)cpu_ns / 1e7 / seconds);
	printf("); ");
	if (others == 0)
		printf("process %d is unpatched\n", (int)pid);
	else if (others > 0)
		printf("the rehearsed patch is reverted; process %d still has %d patch%s applied "
		       "from before\n",
		       (int)pid, others, others == 1 ? "" : "es");
	else
		printf("the rehearsed patch is reverted\n");
	return 0;
}

/* rehearse --cpu: percent of one CPU, in hundredths (10000: no limit). */
#define CLI_REHEARSE_CPU_DEFAULT 100u /* 1 % */

static int parse_cpu_budget(const char *s, uint32_t *budget)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0.01 && v <= 100))
		return -1;
	*budget = (uint32_t)(v * 100 + 0.5);
	return 0;
}

static int parse_parallel(const char *s, unsigned *parallel)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v < 1 || v > CLI_PARALLEL_MAX)
		return -1;
	*parallel = (unsigned)v;
	return 0;
}

/* Splits line into at most max words at blanks; a word may be quoted
 * with ' or " (no escapes inside). Returns the count, or -1 on an
 * unterminated quote or too many words. */
static int split_words(char *line, char **words, int max)
{
	int n = 0;
	char *in = line;

	for (;;) {
		char *out;

		while (*in == ' ' || *in == '\t')
			in++;
		if (!*in || *in == '\n')
			return n;
		if (n == max)
			return -1;
		words[n++] = out = in;
		while (*in && *in != ' ' && *in != '\t' && *in != '\n') {
			if (*in == '\'' || *in == '"') {
				char *close = strchr(in + 1, *in);

				if (!close)
					return -1;
				memmove(out, in + 1, (size_t)(close - in - 1));
				out += close - in - 1;
				in = close + 1;
			} else {
				*out++ = *in++;
			}
		}
		if (*in)
			in++;
		*out = 0;
	}
}

static int run_command(const char *cmd, int nargs, char **args, int flags, unsigned parallel,
		       int one_process);

/* hotpatch batch: the commands on stdin, one per line, each answered on
 * stdout by its output and then "ok" or "error: REASON", flushed, so a
 * program that drives many operations pays for one process start. */
static int cmd_batch(int flags)
{
	char *line = NULL, *words[16];
	size_t cap = 0;
	ssize_t len;
	int worst = 0;

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		/* a NUL would end the line early: refuse it rather than run a
		 * shorter command than was sent */
		int nul = strlen(line) != (size_t)len;
		int n = nul ? -1
			    : split_words(line, words, (int)(sizeof(words) / sizeof(words[0])));
		int ret;

		if (n == 0 || (n > 0 && words[0][0] == '#'))
			continue;
		in_batch = 1;
		batch_why[0] = 0;
		if (nul)
			ret = usage_error("%s", "a NUL byte in the line");
		else if (n < 0)
			ret = usage_error("%s", "unterminated quote or too many words");
		else
			ret = run_command(words[0], n - 1, words + 1, flags, CLI_PARALLEL_DEFAULT,
					  1);
		in_batch = 0;
		if (ret)
			printf("error: %s\n", batch_why[0] ? batch_why : "failed");
		else
			puts("ok");
		if (fflush(stdout) == EOF) {
			free(line);
			return fail("cannot write the answers: %s", strerror(errno));
		}
		if (ret > worst)
			worst = ret;
	}
	free(line);
	return worst;
}

/* One command after the global options: apply, revert, list, status,
 * rehearse, failpoints, of one PID or (cmd_group) of many; args[0] is the
 * first word after the command. one_process (a line of hotpatch batch):
 * neither rehearse nor a group, which report on many lines of their own. */
static int run_command(const char *cmd, int nargs, char **args, int flags, unsigned parallel,
		       int one_process)
{
	struct hp_wire_req req = {0};
	const char *failpoint = NULL;
	int c, idle_priority = 0;
	uint32_t budget = 0; /* 0: the default for the priority */
	pid_t pid;
	int known = !strcmp(cmd, "apply") || !strcmp(cmd, "revert") || !strcmp(cmd, "list") ||
		    !strcmp(cmd, "status") || !strcmp(cmd, "rehearse") ||
		    !strcmp(cmd, "failpoints");

	if (one_process && (!known || !strcmp(cmd, "rehearse")))
		return usage_error("batch runs apply, revert, list, status and failpoints (line: "
				   "%s ...)",
				   cmd);
	if (!known)
		return usage_error("unknown command '%s'", cmd);
	if (nargs >= 1 && !strcmp(args[0], "--failpoint")) {
		if (strcmp(cmd, "apply") && strcmp(cmd, "revert"))
			return usage_error("--failpoint is for apply and revert, not %s", cmd);
		if (nargs < 3)
			return usage_error("usage: hotpatch %s --failpoint NAME PID ...", cmd);
		failpoint = args[1];
		args += 2;
		nargs -= 2;
	}
	while (!strcmp(cmd, "rehearse") && nargs >= 1 &&
	       (!strcmp(args[0], "--priority") || !strcmp(args[0], "--cpu"))) {
		const char *opt = args[0], *val = nargs >= 2 ? args[1] : "";

		if (!strcmp(opt, "--priority")) {
			if (strcmp(val, "program") && strcmp(val, "lowest"))
				return usage_error("invalid --priority '%s' (lowest or program)",
						   val);
			idle_priority = !strcmp(val, "lowest");
		} else if (parse_cpu_budget(val, &budget) < 0) {
			return usage_error("invalid --cpu '%s' (0.01..100, percent of one CPU)",
					   val);
		}
		args += 2; /* a value was there: "" is no valid one */
		nargs -= 2;
	}
	if (nargs < 1)
		return usage_error("'%s' needs a PID", cmd);
	if (failpoint && !strcmp(args[0], "--exe"))
		return usage_error("%s", "--failpoint takes one PID, not --exe");
	if (!failpoint && (!strcmp(args[0], "--exe") || (!strcmp(cmd, "apply") && nargs > 2))) {
		if (one_process)
			return usage_error("%s (line: %s ...)",
					   !strcmp(args[0], "--exe")
						   ? "batch runs commands of one PID, not --exe"
						   : "batch applies to one PID per line",
					   cmd);
		return cmd_group(cmd, nargs, args, flags, parallel);
	}
	if (parse_pid(args[0], &pid) < 0)
		return usage_error("invalid PID '%s'", args[0]);
	if (!strcmp(cmd, "apply")) {
		if (nargs != 2)
			return usage_error("%s", "usage: hotpatch apply PID PKG");
		return cmd_apply(pid, args[1], flags, failpoint);
	}
	if (!strcmp(cmd, "rehearse")) {
		unsigned long cycles = 1;
		char *end;

		if (nargs < 2 || nargs > 3)
			return usage_error(
				"%s",
				"usage: hotpatch rehearse [--priority lowest|program] [--cpu PCT] "
				"PID PKG [CYCLES]");
		if (nargs == 3) {
			errno = 0;
			cycles = strtoul(args[2], &end, 10);
			if (errno || *end || end == args[2] || cycles == 0 || cycles > 100000000 ||
			    args[2][0] == '-')
				return usage_error("invalid CYCLES '%s' (1..100000000)", args[2]);
		}
		/* SCHED_IDLE within a budget would crawl wherever the program
		 * leaves little idle: lowest runs flat out unless told */
		if (!budget)
			budget = idle_priority ? 10000u : CLI_REHEARSE_CPU_DEFAULT;
		return cmd_rehearse(pid, args[1], cycles, idle_priority, budget);
	}
	req.flags = flags;
	if (!strcmp(cmd, "revert")) {
		if (nargs > 2)
			return usage_error("%s", "usage: hotpatch revert PID [PATCH]");
		if (nargs == 2) {
			if (!args[1][0])
				return usage_error("%s", CLI_EMPTY_PATCH);
			if (strlen(args[1]) >= sizeof(req.arg))
				return usage_error("%s", "patch name too long");
			strcpy(req.arg, args[1]);
		}
		req.op = HP_OP_REVERT;
		if ((c = set_failpoint(&req, failpoint)))
			return c;
	} else if (!strcmp(cmd, "failpoints")) {
		if (nargs != 1)
			return usage_error("%s", "usage: hotpatch failpoints PID");
		req.op = HP_OP_FAILPOINTS;
	} else {
		if (nargs != 1)
			return usage_error("usage: hotpatch %s PID", cmd);
		req.op = strcmp(cmd, "list") ? HP_OP_STATUS : HP_OP_LIST;
	}
	return transact(pid, &req, -1, NULL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"parallel", required_argument, NULL, 'P'},
		{"timeout", required_argument, NULL, 'T'},
		{0},
	};
	unsigned parallel = CLI_PARALLEL_DEFAULT;
	const char *cmd;
	int c, flags = 0, nargs;

	while ((c = getopt_long(argc, argv, "+hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			flags |= HP_WIRE_JSON;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("hotpatch %s\n", hp_version());
			return 0;
		case 'T': {
			char *end;
			unsigned long t = strtoul(optarg, &end, 10);

			if (*end || end == optarg || t > 86400 || optarg[0] == '-')
				return usage_error(
					"invalid --timeout '%s' (0..86400 seconds, 0: none)",
					optarg);
			cli_timeout = (unsigned)t;
			break;
		}
		case 'P':
			if (parse_parallel(optarg, &parallel) < 0)
				return usage_error("invalid --parallel '%s' (1..%d)", optarg,
						   CLI_PARALLEL_MAX);
			break;
		default:
			return usage_error("%s", "invalid option");
		}
	}
	if (optind >= argc)
		return usage_error("%s", "missing command");
	cmd = argv[optind++];
	nargs = argc - optind;
	if (!strcmp(cmd, "keygen"))
		return cmd_keygen(nargs, argv + optind);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(nargs, argv + optind, flags & HP_WIRE_JSON);
	if (!strcmp(cmd, "batch"))
		return nargs ? usage_error("%s",
					   "usage: hotpatch [--json] batch (commands on stdin)")
			     : cmd_batch(flags);
	return run_command(cmd, nargs, argv + optind, flags, parallel, 0);
}
