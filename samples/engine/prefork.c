/* prefork.c — the parent of hpkv --workers N. It only listens and
 * supervises: each worker is a whole hpkv (its own threads and store, so
 * keys are not shared between workers) that accepts on the inherited
 * socket. A worker that dies is forked again from the parent, which is
 * what a pre-forking server such as nginx does, and what live patches of
 * such a server must cover (a worker forked later inherits the parent's
 * code). */
#define _GNU_SOURCE
#include "prefork.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server.h"

struct pool {
	pid_t *pids;
	int n;
	int lfd;
	const struct server_config *cfg;
	prefork_serve_fn serve;
	sigset_t old_mask; /* the workers run with it */
};

static pid_t spawn(struct pool *p)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &p->old_mask, NULL);
		_exit(p->serve(p->cfg, p->lfd));
	}
	return pid;
}

/* Reaps every worker that ended; forks a new one in its place. Returns
 * -1 once the restarts are used up. */
static int reap(struct pool *p, int *restarts)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < p->n; i++) {
			if (p->pids[i] != pid)
				continue;
			p->pids[i] = 0;
			if (*restarts >= PREFORK_MAX_RESTARTS)
				return -1;
			p->pids[i] = spawn(p);
			if (p->pids[i] < 0)
				return -1;
			++*restarts;
		}
	}
	return 0;
}

static void stop_all(struct pool *p)
{
	for (int i = 0; i < p->n; i++)
		if (p->pids[i] > 0)
			kill(p->pids[i], SIGTERM);
	for (int i = 0; i < p->n; i++)
		if (p->pids[i] > 0)
			while (waitpid(p->pids[i], NULL, 0) < 0 && errno == EINTR)
				;
}

int prefork_run(const struct server_config *cfg, int workers, prefork_serve_fn serve)
{
	struct pool p = {.n = workers, .cfg = cfg, .serve = serve};
	unsigned short port = 0;
	int restarts = 0, ret = 0;
	sigset_t mask;

	/* Blocked before the first fork, so no SIGCHLD or SIGTERM is lost;
	 * the parent takes them with sigwaitinfo(). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &p.old_mask);
	p.lfd = server_listen(cfg->port, &port);
	p.pids = calloc((size_t)workers, sizeof(*p.pids));
	if (p.lfd < 0 || !p.pids) {
		fprintf(stderr, "hpkv: cannot serve on 127.0.0.1:%u: %s\n", cfg->port,
			strerror(p.lfd < 0 ? -p.lfd : ENOMEM));
		ret = 1;
		goto out;
	}
	for (int i = 0; i < workers; i++) {
		p.pids[i] = spawn(&p);
		if (p.pids[i] < 0) {
			fprintf(stderr, "hpkv: cannot fork worker %d: %s\n", i, strerror(errno));
			ret = 1;
			goto stop;
		}
	}
	/* Tests start us with --port 0 and read this line from a pipe. */
	printf("port %u\n", port);
	fflush(stdout);
	for (;;) {
		int sig = sigwaitinfo(&mask, NULL);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGCHLD && reap(&p, &restarts) < 0) {
			fprintf(stderr, "hpkv: workers keep dying (%d restarts), stopping\n",
				restarts);
			ret = 1;
			break;
		}
	}
stop:
	stop_all(&p);
	if (!ret)
		fprintf(stderr, "hpkv: stopped: %d workers, %d restarted\n", workers, restarts);
out:
	if (p.lfd >= 0)
		close(p.lfd);
	free(p.pids);
	return ret;
}
