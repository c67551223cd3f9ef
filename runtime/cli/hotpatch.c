/* hotpatch: the command line side of the control channel. It opens the
 * package itself and passes the descriptor, so the engine never resolves
 * a path (mount namespaces, permissions and relative paths don't matter). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "hotpatch/hotpatch.h"
#include "hp_cli.h"
#include "hp_wire.h"

/* Set while rehearsing: the per-operation results are not printed. */
static int quiet;

static const char usage_text[] =
	"usage: hotpatch [--json] apply PID PKG\n"
	"       hotpatch [--json] revert PID [PATCH]\n"
	"       hotpatch [--json] list PID\n"
	"       hotpatch [--json] status PID\n"
	"       hotpatch rehearse PID PKG [CYCLES]\n"
	"       hotpatch apply PID PID... PKG\n"
	"       hotpatch apply --exe EXE PKG\n"
	"       hotpatch revert --exe EXE [PATCH]\n"
	"       hotpatch list --exe EXE | status --exe EXE\n"
	"       hotpatch keygen PREFIX\n"
	"       hotpatch [--json] verify PKG [--key PUB]... [--keys DIR]\n"
	"\n"
	"Applies, reverts and shows live patches in process PID, which must run\n"
	"libhotpatch (linked in or LD_PRELOADed). PATCH is an id or name shown by\n"
	"list; without it revert undoes the most recent patch.\n"
	"With several PIDs or --exe EXE (every process whose executable is EXE),\n"
	"apply is all or nothing: the package is verified in every process first,\n"
	"and if one apply fails the ones done are reverted. Processes of EXE\n"
	"without the runtime are listed as skipped.\n"
	"rehearse applies and reverts PKG CYCLES times (default 1) and leaves the\n"
	"process unpatched: a rehearsal of a patch under the process's real load.\n"
	"keygen writes an Ed25519 key pair: PREFIX.key (secret, mode 0600) and\n"
	"PREFIX.pub; sign with mkpatch --sign PREFIX.key. A process started with\n"
	"HOTPATCH_TRUSTED_KEYS=DIR (a directory of .pub files) accepts only\n"
	"packages signed by one of them. verify checks PKG offline (structure,\n"
	"checksum, signature) and, given keys, that one of them signed it.\n"
	"\n"
	"  --json     print results as JSON\n"
	"  --help     show this help\n"
	"  --version  show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hotpatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'hotpatch --help'.\n", stderr);
	return EXIT_USAGE;
}

/* "process N: " while an operation goes through a group of processes */
static char fail_prefix[48];

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hotpatch: ", stderr);
	fputs(fail_prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

static int parse_pid(const char *s, pid_t *pid)
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
static int socket_path(pid_t pid, char *buf, size_t len, uid_t *owner)
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

static int connect_to(pid_t pid, int *fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uid_t owner = 0;
	int ret = socket_path(pid, sa.sun_path, sizeof(sa.sun_path), &owner);

	if (!ret)
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
	if (ret == ENOENT)
		return fail("process %d runs no hotpatch runtime (nothing listening on %s; "
			    "start it with libhotpatch linked or LD_PRELOADed)",
			    (int)pid, sa.sun_path);
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

/* One request/reply exchange. With reply non-NULL a successful reply's
 * text is handed to the caller (to free) instead of being printed. */
static int transact(pid_t pid, struct hp_wire_req *req, int pkg_fd, char **reply)
{
	struct hp_wire_resp resp;
	char *text;
	int fd, ret;

	ret = connect_to(pid, &fd);
	if (ret)
		return ret;
	req->magic = HP_WIRE_MAGIC;
	req->version = HP_WIRE_VERSION;
	/* A runtime that refuses us answers without reading the request, so
	 * a failed send may still have a reply waiting: read it first. */
	ret = send_req(fd, req, pkg_fd) < 0 ? errno : 0;
	if (read_full(fd, &resp, sizeof(resp)) < 0 || resp.magic != HP_WIRE_MAGIC ||
	    resp.len > HP_WIRE_TEXT_MAX || !(text = calloc(1, resp.len + 1))) {
		close(fd);
		if (ret)
			return fail("cannot send request to process %d: %s", (int)pid,
				    strerror(ret));
		return fail("no valid reply from process %d (did it exit?)", (int)pid);
	}
	ret = 0;
	if (read_full(fd, text, resp.len) < 0) {
		free(text);
		close(fd);
		return fail("truncated reply from process %d", (int)pid);
	}
	close(fd);
	if (resp.status != 0) {
		/* The runtime's reason is one line already; keep it that way. */
		text[strcspn(text, "\n")] = 0;
		ret = fail("%s", text[0] ? text : hp_strerror(resp.status));
	} else if (reply) {
		*reply = text;
		return 0;
	} else if (!quiet) {
		fputs(text, stdout);
	}
	free(text);
	return ret;
}

/* Opens PKG for sending; refuses anything but a regular file before the
 * engine ever sees it. */
static int open_package(const char *pkg, int *fd)
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

static int cmd_apply(pid_t pid, const char *pkg, int flags)
{
	struct hp_wire_req req = {.op = HP_OP_APPLY, .flags = flags};
	int fd, ret;

	ret = open_package(pkg, &fd);
	if (ret)
		return ret;
	ret = transact(pid, &req, fd, NULL);
	close(fd);
	return ret;
}

/* ---- groups of processes (several PIDs, --exe EXE) ---- */

struct group {
	pid_t *pids;
	size_t n;
};

static int group_add(struct group *g, pid_t pid)
{
	pid_t *p = realloc(g->pids, (g->n + 1) * sizeof(*p));
	if (!p)
		return fail("out of memory");
	g->pids = p;
	g->pids[g->n++] = pid;
	return 0;
}

static int has_runtime(pid_t pid)
{
	struct sockaddr_un sa;
	uid_t owner;

	quiet = 1;
	int ret = socket_path(pid, sa.sun_path, sizeof(sa.sun_path), &owner);
	quiet = 0;
	return !ret && access(sa.sun_path, F_OK) == 0;
}

/* Every process whose executable is exe and that runs the runtime; the
 * others are reported as skipped. */
static int group_of_exe(const char *exe, struct group *g)
{
	struct stat want, st;
	struct dirent *e;
	char path[64];
	DIR *d;
	int ret = 0;

	if (stat(exe, &want) < 0)
		return fail("cannot stat '%s': %s", exe, strerror(errno));
	d = opendir("/proc");
	if (!d)
		return fail("cannot read /proc: %s", strerror(errno));
	while (!ret && (e = readdir(d))) {
		pid_t pid;
		if (parse_pid(e->d_name, &pid) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		if (stat(path, &st) < 0 || st.st_dev != want.st_dev || st.st_ino != want.st_ino)
			continue;
		if (has_runtime(pid))
			ret = group_add(g, pid);
		else
			printf("%d: skipped (no hotpatch runtime)\n", (int)pid);
	}
	closedir(d);
	if (!ret && !g->n)
		ret = fail("no running process of '%s' runs the hotpatch runtime", exe);
	return ret;
}

static void set_process(pid_t pid)
{
	if (pid)
		snprintf(fail_prefix, sizeof(fail_prefix), "process %d: ", (int)pid);
	else
		fail_prefix[0] = 0;
}

/* Verify everywhere, then apply everywhere; a failed apply reverts the
 * ones done, so the group ends all patched or as it was. */
static int group_apply(const struct group *g, const char *pkg, int flags)
{
	unsigned *ids = calloc(g->n, sizeof(*ids));
	int fd, ret = ids ? open_package(pkg, &fd) : fail("out of memory");
	size_t done = 0;

	if (ret) {
		free(ids);
		return ret;
	}
	for (size_t i = 0; !ret && i < g->n; i++) {
		struct hp_wire_req req = {.op = HP_OP_APPLY, .flags = HP_WIRE_VERIFY_ONLY};
		char *reply = NULL;
		set_process(g->pids[i]);
		ret = transact(g->pids[i], &req, fd, &reply);
		free(reply);
	}
	for (; !ret && done < g->n; done++) {
		struct hp_wire_req req = {.op = HP_OP_APPLY};
		char *reply = NULL;
		set_process(g->pids[done]);
		ret = transact(g->pids[done], &req, fd, &reply);
		if (!ret && (!reply || sscanf(reply, "applied patch %u", &ids[done]) != 1))
			ret = fail("unexpected reply to the apply");
		free(reply);
	}
	if (ret && done) {
		done--; /* the one that failed */
		while (done-- > 0) {
			struct hp_wire_req req = {.op = HP_OP_REVERT};
			snprintf(req.arg, sizeof(req.arg), "%u", ids[done]);
			set_process(g->pids[done]);
			quiet = 1;
			if (transact(g->pids[done], &req, -1, NULL) == 0)
				printf("%d: patch %u reverted again (the group apply failed)\n",
				       (int)g->pids[done], ids[done]);
			quiet = 0;
		}
	}
	set_process(0);
	close(fd);
	for (size_t i = 0; !ret && i < g->n; i++)
		printf(flags & HP_WIRE_JSON ? "{\"pid\":%d,\"applied\":%u}\n"
					    : "%d: applied patch %u\n",
		       (int)g->pids[i], ids[i]);
	free(ids);
	return ret;
}

/* revert, list or status in every process of the group, one after the
 * other, each answer under its process id. */
static int group_each(const struct group *g, struct hp_wire_req *proto)
{
	int failed = 0;

	for (size_t i = 0; i < g->n; i++) {
		struct hp_wire_req req = *proto;
		char *reply = NULL;
		set_process(g->pids[i]);
		if (transact(g->pids[i], &req, -1, &reply) == 0) {
			if (req.op == HP_OP_REVERT)
				printf("%d: %s", (int)g->pids[i], reply ? reply : "\n");
			else
				printf("== process %d\n%s", (int)g->pids[i], reply ? reply : "");
		} else {
			failed = 1;
		}
		free(reply);
	}
	set_process(0);
	return failed ? EXIT_FAIL : 0;
}

/* One apply and the revert of exactly that patch (by the id the runtime
 * reports), so a patch someone else applies meanwhile is left alone. */
static int rehearse_once(pid_t pid, int pkg_fd, unsigned long cycle)
{
	struct hp_wire_req req = {.op = HP_OP_APPLY};
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

static int cmd_rehearse(pid_t pid, const char *pkg, unsigned long cycles)
{
	struct timespec t0, t1;
	double seconds;
	int fd, ret = 0;

	ret = open_package(pkg, &fd);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 1; i <= cycles && !ret; i++)
		ret = rehearse_once(pid, fd, i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	if (ret)
		return ret;
	seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Only the rehearsed patch was reverted: say what the process still
	 * carries rather than claim it is unpatched. */
	int others = count_patches(pid);
	printf("rehearsed %lu apply+revert cycles in %.3f s (%.1f us per cycle); ", cycles, seconds,
	       seconds * 1e6 / (double)cycles);
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

/* apply PID PID... PKG, apply --exe EXE PKG, revert --exe EXE [PATCH],
 * list --exe EXE, status --exe EXE */
static int cmd_group(const char *cmd, int nargs, char **args, int flags)
{
	struct group g = {0};
	struct hp_wire_req req = {.flags = flags};
	int rest, ret;

	if (!strcmp(args[0], "--exe")) {
		if (nargs < 2)
			return usage_error("'%s --exe' needs an executable", cmd);
		ret = group_of_exe(args[1], &g);
		rest = 2;
	} else {
		ret = 0;
		for (rest = 0; !ret && rest < nargs - 1; rest++) {
			pid_t pid;
			if (parse_pid(args[rest], &pid) < 0) {
				free(g.pids);
				return usage_error("invalid PID '%s'", args[rest]);
			}
			ret = group_add(&g, pid);
		}
	}
	if (ret) {
		free(g.pids);
		return ret;
	}
	int extra = nargs - rest;
	if (!strcmp(cmd, "apply")) {
		ret = extra == 1
			      ? group_apply(&g, args[rest], flags)
			      : usage_error("%s", "usage: hotpatch apply (--exe EXE | PID...) PKG");
	} else if (!strcmp(cmd, "revert") && extra <= 1) {
		req.op = HP_OP_REVERT;
		if (extra == 1 && strlen(args[rest]) >= sizeof(req.arg))
			ret = usage_error("%s", "patch name too long");
		else if (extra == 1)
			strcpy(req.arg, args[rest]);
		if (!ret)
			ret = group_each(&g, &req);
	} else if ((!strcmp(cmd, "list") || !strcmp(cmd, "status")) && extra == 0) {
		req.op = strcmp(cmd, "list") ? HP_OP_STATUS : HP_OP_LIST;
		ret = group_each(&g, &req);
	} else {
		ret = usage_error("usage: hotpatch %s --exe EXE%s", cmd,
				  !strcmp(cmd, "revert") ? " [PATCH]" : "");
	}
	free(g.pids);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct hp_wire_req req = {0};
	const char *cmd;
	int c, flags = 0, nargs;
	pid_t pid;

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
	if (strcmp(cmd, "apply") && strcmp(cmd, "revert") && strcmp(cmd, "list") &&
	    strcmp(cmd, "status") && strcmp(cmd, "rehearse"))
		return usage_error("unknown command '%s'", cmd);
	if (nargs < 1)
		return usage_error("'%s' needs a PID", cmd);
	if (!strcmp(argv[optind], "--exe") || (!strcmp(cmd, "apply") && nargs > 2))
		return cmd_group(cmd, argc - optind, argv + optind, flags);
	if (parse_pid(argv[optind], &pid) < 0)
		return usage_error("invalid PID '%s'", argv[optind]);
	if (!strcmp(cmd, "apply")) {
		if (nargs != 2)
			return usage_error("%s", "usage: hotpatch apply PID PKG");
		return cmd_apply(pid, argv[optind + 1], flags);
	}
	if (!strcmp(cmd, "rehearse")) {
		unsigned long cycles = 1;
		char *end;

		if (nargs < 2 || nargs > 3)
			return usage_error("%s", "usage: hotpatch rehearse PID PKG [CYCLES]");
		if (nargs == 3) {
			errno = 0;
			cycles = strtoul(argv[optind + 2], &end, 10);
			if (errno || *end || end == argv[optind + 2] || cycles == 0 ||
			    cycles > 100000000 || argv[optind + 2][0] == '-')
				return usage_error("invalid CYCLES '%s' (1..100000000)",
						   argv[optind + 2]);
		}
		return cmd_rehearse(pid, argv[optind + 1], cycles);
	}
	req.flags = flags;
	if (!strcmp(cmd, "revert")) {
		if (nargs > 2)
			return usage_error("%s", "usage: hotpatch revert PID [PATCH]");
		if (nargs == 2) {
			if (strlen(argv[optind + 1]) >= sizeof(req.arg))
				return usage_error("%s", "patch name too long");
			strcpy(req.arg, argv[optind + 1]);
		}
		req.op = HP_OP_REVERT;
	} else {
		if (nargs != 1)
			return usage_error("usage: hotpatch %s PID", cmd);
		req.op = strcmp(cmd, "list") ? HP_OP_STATUS : HP_OP_LIST;
	}
	return transact(pid, &req, -1, NULL);
}
