/* main.c — hpkv: command line, signals, and the shutdown summary. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefork.h"
#include "server.h"
#include "stats.h"
#include "store.h"

#define MAX_THREADS 64
#define MAX_WORKERS 64

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hpkv --port N [--threads N] [--workers N]\n"
		"  --port N     TCP port on 127.0.0.1 (0: pick a free one)\n"
		"  --threads N  worker threads, 1..%d (default 4)\n"
		"  --workers N  pre-fork: N worker processes, 1..%d, each with its\n"
		"               threads and its own keys, on one listening socket\n"
		"Prints \"port N\" on stdout once it accepts connections;\n"
		"SIGTERM or SIGINT stop it (exit status 0).\n",
		MAX_THREADS, MAX_WORKERS);
}

/* Strict decimal parse: the whole string, within [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void on_stop_signal(int sig)
{
	server_stop();
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -1;
	/* A client that disconnects mid-reply must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* One hpkv: the store and threads serving the connections accepted on
 * lfd until SIGTERM or SIGINT (whose handlers are in place); the exit
 * status. */
static int serve(const struct server_config *cfg, int lfd)
{
	struct store *st;
	int err;

	stats_init();
	st = store_new();
	if (!st) {
		fprintf(stderr, "hpkv: cannot start: %s\n", strerror(ENOMEM));
		return 1;
	}
	err = server_serve(cfg, st, lfd);
	if (err) {
		fprintf(stderr, "hpkv: cannot serve on 127.0.0.1:%u: %s\n", cfg->port,
			strerror(-err));
		store_free(st);
		return 1;
	}
	fprintf(stderr, "hpkv: stopped: %lu requests, %lu errors, %lu connections, %zu keys\n",
		stats_requests(), stats_errors(), stats_connections(), store_count(st));
	store_free(st);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"port", required_argument, NULL, 'p'},
		{"threads", required_argument, NULL, 't'},
		{"workers", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct server_config cfg = {.threads = 4};
	long port = -1, v, workers = 0;
	unsigned short bound;
	int opt, lfd;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_long(optarg, 0, 65535, &port) != 0) {
				fprintf(stderr, "hpkv: bad port '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 't':
			if (parse_long(optarg, 1, MAX_THREADS, &v) != 0) {
				fprintf(stderr, "hpkv: bad thread count '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			cfg.threads = (int)v;
			break;
		case 'w':
			if (parse_long(optarg, 1, MAX_WORKERS, &workers) != 0) {
				fprintf(stderr, "hpkv: bad worker count '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || port < 0) {
		fprintf(stderr, "hpkv: %s\n",
			optind < argc ? "unexpected argument" : "--port is required");
		usage(stderr);
		return 2;
	}
	cfg.port = (unsigned short)port;
	/* Before any worker is forked: they inherit the handlers. */
	if (install_signals() != 0) {
		fprintf(stderr, "hpkv: cannot start: %s\n", strerror(errno));
		return 1;
	}
	if (workers)
		return prefork_run(&cfg, (int)workers, serve);
	lfd = server_listen(cfg.port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "hpkv: cannot serve on 127.0.0.1:%ld: %s\n", port, strerror(-lfd));
		return 1;
	}
	/* Tests start us with --port 0 and read this line from a pipe. */
	printf("port %u\n", bound);
	fflush(stdout);
	return serve(&cfg, lfd);
}
