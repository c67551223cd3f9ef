/* main.c — hpkv: command line, signals, and the shutdown summary. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "stats.h"
#include "store.h"

#define MAX_THREADS 64

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hpkv --port N [--threads N]\n"
		"  --port N     TCP port on 127.0.0.1 (0: pick a free one)\n"
		"  --threads N  worker threads, 1..%d (default 4)\n"
		"Prints \"port N\" on stdout once it accepts connections;\n"
		"SIGTERM or SIGINT stop it (exit status 0).\n",
		MAX_THREADS);
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

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"port", required_argument, NULL, 'p'},
		{"threads", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct server_config cfg = {.threads = 4};
	struct store *st;
	long port = -1, v;
	int opt, err;

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

	stats_init();
	st = store_new();
	if (!st || install_signals() != 0) {
		fprintf(stderr, "hpkv: cannot start: %s\n", strerror(st ? errno : ENOMEM));
		store_free(st);
		return 1;
	}
	err = server_run(&cfg, st);
	if (err) {
		fprintf(stderr, "hpkv: cannot serve on 127.0.0.1:%ld: %s\n", port, strerror(-err));
		store_free(st);
		return 1;
	}
	fprintf(stderr, "hpkv: stopped: %lu requests, %lu errors, %lu connections, %zu keys\n",
		stats_requests(), stats_errors(), stats_connections(), store_count(st));
	store_free(st);
	return 0;
}
