/* Groups of processes as one target: several PIDs, or every process that
 * runs an executable (--exe EXE). The requests of a group go out with at
 * most `parallel` of them in flight; apply is all or nothing. The rules
 * are in docs/runtime.md, "Groups of processes". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hp_cli.h"

/* A server that keeps starting processes of EXE while we patch it gets
 * this many looks for newcomers before the apply gives up. */
#define NEWCOMER_ROUNDS 3

struct member {
	pid_t pid;
	unsigned id; /* the patch this command applied or reverted in it; 0: none */
	pid_t from;  /* forked during the command: the member it inherited id from */
};

/* What identifies EXE: its file, and the process name the kernel gives
 * a process that runs it (the first 15 bytes of the file's name). */
struct exe_id {
	const char *path;
	dev_t dev;
	ino_t ino;
	char comm[2][16]; /* of the path as given, and of the path it resolves to */
};

struct group {
	struct member *m; /* sorted by pid */
	size_t n, cap;
	const struct exe_id *exe; /* --exe EXE; NULL for a list of PIDs */
	int json;
	unsigned parallel;
	/* processes named like EXE whose executable we may not read */
	size_t unreadable;
	pid_t unreadable_pid;
};

/* The first failure of a phase, and how many there were. */
struct failure {
	size_t count;
	pid_t pid;
	int lost; /* the process was gone */
	char why[640];
};

double cli_now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int group_add(struct group *g, pid_t pid, unsigned id, pid_t from)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct member *m = realloc(g->m, cap * sizeof(*m));

		if (!m)
			return fail("out of memory");
		g->m = m;
		g->cap = cap;
	}
	g->m[g->n++] = (struct member){.pid = pid, .id = id, .from = from};
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct member *)a)->pid, y = ((const struct member *)b)->pid;

	return (x > y) - (x < y);
}

static void group_sort(struct group *g)
{
	if (g->n)
		qsort(g->m, g->n, sizeof(*g->m), by_pid);
}

static const struct member *group_find(const struct group *g, pid_t pid)
{
	struct member key = {.pid = pid};

	return g && g->n ? bsearch(&key, g->m, g->n, sizeof(*g->m), by_pid) : NULL;
}

static void failure_note(struct failure *f, pid_t pid, int lost, const char *why)
{
	if (f->count++)
		return;
	f->pid = pid;
	f->lost = lost;
	snprintf(f->why, sizeof(f->why), "%s", why);
}

/* ---- what /proc says ---- */

/* 1: pid runs EXE; 0: it does not, or is gone; -1: its executable may
 * not be read (another user's process, or one that is not dumpable). */
static int runs_exe(const struct exe_id *exe, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) == 0)
		return st.st_dev == exe->dev && st.st_ino == exe->ino;
	return errno == EACCES || errno == EPERM ? -1 : 0;
}

/* The state letter of pid (0 when it is gone) and its parent. */
static char proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[1024], state, *p;
	int fd, parent;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* The name in parentheses may hold anything: the last ')' ends it. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", &state, &parent) != 2)
		return 0;
	if (ppid)
		*ppid = parent;
	return state;
}

/* The process is gone (a zombie at most) or, with --exe, runs something
 * else now (it exec'd, or its PID was reused). */
static int gone(const struct group *g, pid_t pid)
{
	char state = proc_state(pid, NULL);

	if (!state || state == 'Z' || state == 'X')
		return 1;
	return g->exe && runs_exe(g->exe, pid) == 0;
}

static int has_runtime(pid_t pid)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], why[160];
	uid_t owner;
	int ret;

	fail_into(why, sizeof(why)); /* it may have exited meanwhile */
	ret = socket_path(pid, path, sizeof(path), &owner);
	fail_into(NULL, 0);
	return !ret && access(path, F_OK) == 0;
}

static int named_like_exe(const struct exe_id *exe, pid_t pid)
{
	char path[64], comm[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	comm[strcspn(comm, "\n")] = 0;
	return !strcmp(comm, exe->comm[0]) || !strcmp(comm, exe->comm[1]);
}

static void comm_of(char comm[16], const char *path)
{
	const char *slash = strrchr(path, '/');

	const char *name = slash ? slash + 1 : path;
	size_t n = strnlen(name, 15); /* the kernel keeps 15 bytes of it */

	memcpy(comm, name, n);
	comm[n] = 0;
}

static int exe_id_init(struct exe_id *exe, const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0)
		return fail("cannot use '%s' as the executable: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail("'%s' is not a regular file (--exe takes the program's executable)",
			    path);
	exe->path = path;
	exe->dev = st.st_dev;
	exe->ino = st.st_ino;
	comm_of(exe->comm[0], path);
	comm_of(exe->comm[1], realpath(path, real) ? real : path);
	return 0;
}

/* ---- output ---- */

static void say_skipped(const struct group *g, pid_t pid, const char *why)
{
	printf(g->json ? "{\"pid\":%d,\"skipped\":\"%s\"}\n" : "%d: skipped (%s)\n", (int)pid, why);
}

static void say_done(const struct group *g, const char *what, size_t n, size_t skipped,
		     double seconds)
{
	if (g->json) {
		printf("{\"%s\":%zu,\"skipped\":%zu,\"seconds\":%.3f}\n", what, n, skipped,
		       seconds);
		return;
	}
	printf("%s in %zu process%s", what, n, n == 1 ? "" : "es");
	if (skipped)
		printf(" (%zu skipped)", skipped);
	printf(" in %.2f s\n", seconds);
}

static int say_unreadable(const struct group *g)
{
	char path[64];
	struct stat st;
	unsigned uid = 0;

	snprintf(path, sizeof(path), "/proc/%d", (int)g->unreadable_pid);
	if (stat(path, &st) == 0)
		uid = (unsigned)st.st_uid;
	return fail("process %d (uid %u%s) is named like '%s' but its executable cannot be "
		    "checked by uid %u: run as root or as its owner, or name the PIDs",
		    (int)g->unreadable_pid, uid, g->unreadable > 1 ? ", and others" : "",
		    g->exe->path, (unsigned)geteuid());
}

/* ---- finding the processes ---- */

/* Every process of EXE that runs the runtime and is not in known (NULL:
 * none), into out, sorted. With report, the others are said: a process
 * of EXE without the runtime as skipped, one whose executable may not be
 * read but whose name is EXE's counted in g->unreadable. */
static int scan_exe(struct group *g, const struct group *known, struct group *out, int report)
{
	struct dirent *e;
	int ret = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return fail("cannot read /proc: %s", strerror(errno));
	while (!ret && (e = readdir(d))) {
		pid_t pid;
		int r;

		if (parse_pid(e->d_name, &pid) < 0 || pid == getpid() || group_find(known, pid))
			continue;
		r = runs_exe(g->exe, pid);
		if (r < 0 && report && named_like_exe(g->exe, pid) && !g->unreadable++)
			g->unreadable_pid = pid;
		if (r <= 0)
			continue;
		if (has_runtime(pid))
			ret = group_add(out, pid, 0, 0);
		else if (report)
			say_skipped(g, pid, "no hotpatch runtime");
	}
	closedir(d);
	group_sort(out);
	return ret;
}

/* The nearest ancestor of pid that is a member (a process forked by a
 * member, or by a child of one), or NULL. */
static const struct member *ancestor(const struct group *g, pid_t pid)
{
	for (int depth = 0; depth < 16; depth++) {
		const struct member *m;
		pid_t ppid;

		if (!proc_state(pid, &ppid) || ppid <= 1)
			return NULL;
		m = group_find(g, ppid);
		if (m)
			return m;
		pid = ppid;
	}
	return NULL;
}

/* Whether pid lists patch id: a child inherits its parent's registry,
 * ids included. */
static int carries(pid_t pid, unsigned id)
{
	struct hp_wire_req req = {.op = HP_OP_LIST, .flags = HP_WIRE_JSON};
	struct exchange x = {.pid = pid, .fd = -1};
	char key[32];
	int yes;

	if (exchange_begin(&x, &req, -1) == 0)
		exchange_end(&x);
	if (x.ret)
		return 0;
	snprintf(key, sizeof(key), "{\"id\":%u,", id);
	yes = strstr(x.reply, key) != NULL;
	free(x.reply);
	return yes;
}

/* ---- requests ---- */

/* Sends a copy of proto to every member of who, at most g->parallel at
 * once, and waits for every answer; xs[i] is the exchange of who->m[i].
 * With by_id, each request names the member's patch id. */
static struct exchange *exchange_all(const struct group *g, const struct group *who,
				     const struct hp_wire_req *proto, int pkg_fd, int by_id)
{
	struct exchange *xs = calloc(who->n ? who->n : 1, sizeof(*xs));
	struct pollfd pfd[CLI_PARALLEL_MAX];
	size_t at[CLI_PARALLEL_MAX], next = 0, busy = 0;

	if (!xs) {
		fail("out of memory");
		return NULL;
	}
	while (next < who->n || busy) {
		while (busy < g->parallel && next < who->n) {
			struct hp_wire_req req = *proto;
			struct exchange *x = &xs[next];

			*x = (struct exchange){.pid = who->m[next].pid, .fd = -1};
			if (by_id)
				snprintf(req.arg, sizeof(req.arg), "%u", who->m[next].id);
			if (exchange_begin(x, &req, pkg_fd) == 0) {
				pfd[busy] = (struct pollfd){.fd = x->fd, .events = POLLIN};
				at[busy++] = next;
			}
			next++;
		}
		if (!busy)
			continue;
		if (poll(pfd, busy, -1) < 0) {
			if (errno == EINTR)
				continue;
			/* cannot wait for them together: one after the other */
			while (busy)
				exchange_end(&xs[at[--busy]]);
			continue;
		}
		for (size_t i = 0; i < busy;) {
			if (!pfd[i].revents) {
				i++;
				continue;
			}
			exchange_end(&xs[at[i]]);
			busy--;
			pfd[i] = pfd[busy];
			at[i] = at[busy];
		}
	}
	return xs;
}

/* Sends the package to every member of who, to verify it there or to
 * apply it. A member that answers stays; one that is gone (with --exe)
 * before the verify is said to be skipped and dropped; any other failure
 * is noted in f. An apply records each member's patch id. */
static int send_package(struct group *g, struct group *who, int pkg_fd, int verify,
			struct failure *f, size_t *skipped)
{
	struct hp_wire_req req = {.op = HP_OP_APPLY, .flags = verify ? HP_WIRE_VERIFY_ONLY : 0};
	struct exchange *xs = exchange_all(g, who, &req, pkg_fd, 0);
	size_t kept = 0;

	if (!xs)
		return EXIT_FAIL;
	for (size_t i = 0; i < who->n; i++) {
		struct exchange *x = &xs[i];

		if (!x->ret && !verify &&
		    (!x->reply || sscanf(x->reply, "applied patch %u", &who->m[i].id) != 1)) {
			x->ret = EXIT_FAIL;
			snprintf(x->why, sizeof(x->why), "unexpected reply to the apply");
		}
		free(x->reply);
		if (!x->ret) {
			who->m[kept++] = who->m[i];
		} else if (verify && g->exe && gone(g, x->pid)) {
			say_skipped(g, x->pid, "exited before the apply");
			++*skipped;
		} else {
			failure_note(f, x->pid, gone(g, x->pid), x->why);
			who->m[kept++] = who->m[i]; /* its id stays 0 */
		}
	}
	who->n = kept;
	free(xs);
	return 0;
}

/* Reverts its patch id in every member of who that has one, saying each
 * on stdout with note. Returns how many live processes kept the patch. */
static size_t revert_ids(struct group *g, const struct group *who, const char *note)
{
	struct hp_wire_req req = {.op = HP_OP_REVERT};
	struct group todo = {0};
	struct exchange *xs;
	size_t kept = 0;

	for (size_t i = 0; i < who->n; i++)
		if (who->m[i].id && group_add(&todo, who->m[i].pid, who->m[i].id, who->m[i].from))
			return 1;
	xs = exchange_all(g, &todo, &req, -1, 1);
	for (size_t i = 0; xs && i < todo.n; i++) {
		const struct member *m = &todo.m[i];

		free(xs[i].reply);
		if (!xs[i].ret && m->from)
			printf("%d: patch %u reverted again (%s; inherited from %d)\n", (int)m->pid,
			       m->id, note, (int)m->from);
		else if (!xs[i].ret)
			printf("%d: patch %u reverted again (%s)\n", (int)m->pid, m->id, note);
		else if (!gone(g, m->pid) && ++kept)
			printf("%d: patch %u NOT reverted: %s\n", (int)m->pid, m->id, xs[i].why);
	}
	if (!xs)
		kept = todo.n;
	free(xs);
	free(todo.m);
	return kept;
}

/* Processes of EXE that are not members, forked by one (or by a child of
 * one) that had patch id, and that carry it: they were forked after that
 * member's apply and before its revert. */
static int inheritors(struct group *g, struct group *out)
{
	struct group fresh = {0};
	int ret = scan_exe(g, g, &fresh, 0);

	for (size_t i = 0; !ret && i < fresh.n; i++) {
		const struct member *a = ancestor(g, fresh.m[i].pid);

		if (a && a->id && carries(fresh.m[i].pid, a->id))
			ret = group_add(out, fresh.m[i].pid, a->id, a->pid);
	}
	free(fresh.m);
	return ret;
}

/* After the members' reverts (a roll-back, or revert --exe): a member
 * that forked between its apply and its revert left a child with the
 * patch, whom the revert did not reach. Revert it there too, and in
 * their children, for a few rounds. Returns how many kept it. */
static size_t revert_inherited(struct group *g, const char *note)
{
	size_t kept = 0;

	if (!g->exe)
		return 0;
	for (int round = 0; round < NEWCOMER_ROUNDS; round++) {
		struct group heirs = {0};

		if (inheritors(g, &heirs) || !heirs.n) {
			free(heirs.m);
			return kept;
		}
		kept += revert_ids(g, &heirs, note);
		for (size_t i = 0; i < heirs.n; i++)
			if (group_add(g, heirs.m[i].pid, heirs.m[i].id, heirs.m[i].from))
				kept++;
		group_sort(g);
		free(heirs.m);
	}
	return kept;
}

/* After every member applied: processes of EXE that are not members have
 * appeared. One a member forked after its own apply carries the patch
 * already and joins as it is; any other (forked before its parent's
 * apply, or started anew) is verified and patched like the members. A
 * server that keeps starting processes gets NEWCOMER_ROUNDS looks. */
static int adopt_newcomers(struct group *g, int pkg_fd, struct failure *f, size_t *skipped)
{
	for (int round = 0; round < NEWCOMER_ROUNDS; round++) {
		struct group fresh = {0}, todo = {0};
		int ret = scan_exe(g, g, &fresh, 0);

		for (size_t i = 0; !ret && i < fresh.n; i++) {
			const struct member *a = ancestor(g, fresh.m[i].pid);

			if (a && a->id && carries(fresh.m[i].pid, a->id))
				ret = group_add(g, fresh.m[i].pid, a->id, a->pid);
			else
				ret = group_add(&todo, fresh.m[i].pid, 0, 0);
		}
		free(fresh.m);
		if (!ret && todo.n)
			ret = send_package(g, &todo, pkg_fd, 1, f, skipped);
		if (!ret && todo.n && !f->count)
			ret = send_package(g, &todo, pkg_fd, 0, f, skipped);
		for (size_t i = 0; !ret && i < todo.n; i++)
			ret = group_add(g, todo.m[i].pid, todo.m[i].id, 0);
		group_sort(g);
		free(todo.m);
		if (ret)
			failure_note(f, getpid(), 0, "out of memory");
		if (ret || f->count || !todo.n)
			return 0;
	}
	char why[sizeof(f->why)];
	snprintf(why, sizeof(why), "new processes of '%s' kept appearing during the apply",
		 g->exe->path);
	failure_note(f, 0, 0, why);
	return 0;
}

/* The failed apply's one line, once the roll-back is done. */
static int say_rolled_back(const struct failure *f, size_t reverted, size_t kept)
{
	char tail[160];
	int n;

	n = snprintf(tail, sizeof(tail), "the group is rolled back (%zu process%s reverted",
		     reverted, reverted == 1 ? "" : "es");
	if (kept)
		snprintf(tail + n, sizeof(tail) - (size_t)n, "; %zu still patched, see above",
			 kept);
	if (!f->pid)
		return fail("%s: %s)", f->why, tail);
	if (f->lost)
		return fail("process %d exited during the group apply: %s)", (int)f->pid, tail);
	return fail("process %d: %s: %s)", (int)f->pid, f->why, tail);
}

/* Verify everywhere, then apply everywhere, then take in the processes
 * that appeared meanwhile; a failure past the verify reverts everything
 * this apply did, so the group ends all patched or as it was. */
static int group_apply(struct group *g, const char *pkg)
{
	struct failure f = {0};
	size_t skipped = 0, reverted = 0;
	double t0 = cli_now_s();
	int fd, ret;

	ret = open_package(pkg, &fd);
	if (ret)
		return ret;
	ret = send_package(g, g, fd, 1, &f, &skipped);
	if (!ret && f.count)
		ret = f.count > 1 ? fail("process %d: %s (and %zu more processes refused)",
					 (int)f.pid, f.why, f.count - 1)
				  : fail("process %d: %s", (int)f.pid, f.why);
	if (!ret && !g->n)
		ret = fail("every process of '%s' exited before the apply", g->exe->path);
	if (ret)
		goto out;
	printf(g->json ? "{\"verified\":%zu,\"seconds\":%.3f}\n"
		       : "verified in %zu processes (%.2f s)\n",
	       g->n, cli_now_s() - t0);
	fflush(stdout); /* a test waits for this line to act mid-apply */

	ret = send_package(g, g, fd, 0, &f, &skipped);
	if (!ret && !f.count && g->exe)
		ret = adopt_newcomers(g, fd, &f, &skipped);
	if (ret || f.count) {
		size_t kept = revert_ids(g, g, "the group apply failed");

		kept += revert_inherited(g, "the group apply failed");
		for (size_t i = 0; i < g->n; i++)
			reverted += g->m[i].id != 0;
		ret = say_rolled_back(&f, reverted - kept, kept);
		goto out;
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct member *m = &g->m[i];

		if (g->json)
			printf(m->from ? "{\"pid\":%d,\"applied\":%u,\"inherited_from\":%d}\n"
				       : "{\"pid\":%d,\"applied\":%u}\n",
			       (int)m->pid, m->id, (int)m->from);
		else if (m->from)
			printf("%d: applied patch %u (inherited from %d)\n", (int)m->pid, m->id,
			       (int)m->from);
		else
			printf("%d: applied patch %u\n", (int)m->pid, m->id);
	}
	say_done(g, "applied", g->n, skipped, cli_now_s() - t0);
out:
	close(fd);
	return ret;
}

/* revert, list or status in every member, each answer under its process
 * id; a member gone meanwhile (with --exe) is said to be skipped. A revert
 * also reaches the children a member forked before its revert. */
static int group_each(struct group *g, const struct hp_wire_req *req)
{
	int revert = req->op == HP_OP_REVERT, failed = 0;
	size_t skipped = 0, done = 0;
	double t0 = cli_now_s();
	struct exchange *xs = exchange_all(g, g, req, -1, 0);

	if (!xs)
		return EXIT_FAIL;
	for (size_t i = 0; i < g->n; i++) {
		struct exchange *x = &xs[i];

		if (!x->ret && revert) {
			done++;
			if (!x->reply || sscanf(x->reply, "reverted patch %u", &g->m[i].id) != 1)
				g->m[i].id = 0;
			if (g->json)
				printf("{\"pid\":%d,\"reverted\":%u}\n", (int)x->pid, g->m[i].id);
			else
				printf("%d: %s", (int)x->pid, x->reply ? x->reply : "\n");
		} else if (!x->ret) {
			printf("== process %d\n%s", (int)x->pid, x->reply ? x->reply : "");
		} else if (g->exe && gone(g, x->pid)) {
			say_skipped(g, x->pid, "exited");
			skipped++;
		} else {
			fail("process %d: %s", (int)x->pid, x->why);
			failed = 1;
		}
		free(x->reply);
	}
	free(xs);
	if (revert && revert_inherited(g, "forked before its parent's revert"))
		failed = 1;
	if (g->unreadable)
		failed = say_unreadable(g);
	if (revert)
		say_done(g, "reverted", done, skipped, cli_now_s() - t0);
	return failed ? EXIT_FAIL : 0;
}

/* The members of a list of PIDs; each once. */
static int group_of_pids(struct group *g, int n, char **args)
{
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int ret;

		if (parse_pid(args[i], &pid) < 0)
			return usage_error("invalid PID '%s'", args[i]);
		ret = group_add(g, pid, 0, 0);
		if (ret)
			return ret;
	}
	group_sort(g);
	for (size_t i = 1; i < g->n; i++)
		if (g->m[i].pid == g->m[i - 1].pid)
			return usage_error("PID %d is named twice", (int)g->m[i].pid);
	return 0;
}

int cmd_group(const char *cmd, int nargs, char **args, int flags, unsigned parallel)
{
	struct group g = {.json = !!(flags & HP_WIRE_JSON), .parallel = parallel};
	struct hp_wire_req req = {.flags = flags};
	int apply = !strcmp(cmd, "apply"), rest, ret;
	struct exe_id exe;

	if (!strcmp(args[0], "--exe")) {
		if (nargs < 2)
			return usage_error("'%s --exe' needs an executable", cmd);
		rest = 2;
		ret = exe_id_init(&exe, args[1]);
		if (!ret) {
			g.exe = &exe;
			ret = scan_exe(&g, NULL, &g, 1);
		}
		if (!ret && g.unreadable && (apply || !g.n))
			ret = say_unreadable(&g);
		if (!ret && !g.n)
			ret = fail("no running process of '%s' runs the hotpatch runtime", args[1]);
	} else {
		rest = nargs - 1;
		ret = group_of_pids(&g, rest, args);
	}
	if (ret)
		goto out;
	int extra = nargs - rest;
	if (apply) {
		ret = extra == 1
			      ? group_apply(&g, args[rest])
			      : usage_error("%s", "usage: hotpatch apply (--exe EXE | PID...) PKG");
	} else if (!strcmp(cmd, "revert") && extra <= 1) {
		req.op = HP_OP_REVERT;
		req.flags &= ~HP_WIRE_JSON; /* the group renders its own JSON */
		if (extra == 1 && !args[rest][0])
			ret = usage_error("%s", CLI_EMPTY_PATCH);
		else if (extra == 1 && strlen(args[rest]) >= sizeof(req.arg))
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
out:
	free(g.m);
	return ret;
}
