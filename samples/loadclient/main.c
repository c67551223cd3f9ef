/* main.c — hpload: command line, threads, and the report. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "workload.h"

#define MAX_CONNECTIONS 256
#define MAX_SENDS 64
#define MAX_SECONDS 3600.0
/* With only --requests, a stuck server must still not hang a test run. */
#define DEFAULT_DEADLINE_S 60.0
#define DEFAULT_SECONDS 3.0

struct options {
	unsigned short port;
	unsigned connections;
	double seconds;	   /* 0: not given */
	uint64_t requests; /* 0: not given */
	uint64_t seed;
	bool json;
	const char *sends[MAX_SENDS];
	unsigned nsends;
};

struct job {
	struct workload_config cfg;
	struct workload_result res;
	pthread_t thread;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hpload --port N [--host 127.0.0.1] [--connections C]\n"
		"              [--seconds T | --requests N] [--seed S] [--json]\n"
		"       hpload --port N --send LINE [--send LINE]...\n"
		"  --connections C  parallel connections, 1..%d (default 4)\n"
		"  --seconds T      run for T seconds (default %.0f; at most %.0f)\n"
		"  --requests N     stop after N requests in total (and after %.0f s)\n"
		"  --seed S         seed of the request stream (default 1)\n"
		"  --json           print the result as one JSON object\n"
		"  --send LINE      send LINE, print the reply line; repeatable,\n"
		"                   all on one connection\n"
		"SIGINT or SIGTERM ends a run early; the summary is still printed.\n"
		"Exit status: 0 no errors and no mismatches, 1 otherwise, 2 usage.\n",
		MAX_CONNECTIONS, DEFAULT_SECONDS, MAX_SECONDS, DEFAULT_DEADLINE_S);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0 && v <= MAX_SECONDS))
		return -1;
	*out = v;
	return 0;
}

static int bad_arg(const char *what, const char *value)
{
	fprintf(stderr, "hpload: bad %s '%s'\n", what, value);
	usage(stderr);
	return 2;
}

/* Returns -1 to go on, or the exit status for main. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"port", required_argument, NULL, 'p'},
		{"host", required_argument, NULL, 'H'},
		{"connections", required_argument, NULL, 'c'},
		{"seconds", required_argument, NULL, 't'},
		{"requests", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"send", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	bool have_port = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_u64(optarg, 1, 65535, &v))
				return bad_arg("port", optarg);
			o->port = (unsigned short)v;
			have_port = true;
			break;
		case 'H':
			if (strcmp(optarg, "127.0.0.1") != 0 && strcmp(optarg, "localhost") != 0)
				return bad_arg("host (only 127.0.0.1 or localhost)", optarg);
			break;
		case 'c':
			if (parse_u64(optarg, 1, MAX_CONNECTIONS, &v))
				return bad_arg("connection count", optarg);
			o->connections = (unsigned)v;
			break;
		case 't':
			if (parse_seconds(optarg, &o->seconds))
				return bad_arg("seconds", optarg);
			break;
		case 'n':
			if (parse_u64(optarg, 1, 1000000000ull, &o->requests))
				return bad_arg("request count", optarg);
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				return bad_arg("seed", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'S':
			if (o->nsends == MAX_SENDS)
				return bad_arg("--send (too many)", optarg);
			if (strchr(optarg, '\n'))
				return bad_arg("--send line (holds a newline)", optarg);
			o->sends[o->nsends++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return bad_arg("argument", argv[optind]);
	if (!have_port) {
		fprintf(stderr, "hpload: --port is required\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

/* One connection, each --send line in turn, each reply printed as is. */
static int run_sends(const struct options *o)
{
	static struct net_conn conn;
	int err = net_connect(&conn, o->port, 5000);

	if (err) {
		fprintf(stderr, "hpload: cannot connect to 127.0.0.1:%u: %s\n", o->port,
			strerror(-err));
		return 1;
	}
	for (unsigned i = 0; i < o->nsends; i++) {
		size_t len = strlen(o->sends[i]);
		const char *line;
		long n;

		err = net_send(&conn, o->sends[i], len);
		if (!err)
			err = net_send(&conn, "\n", 1);
		n = err ? err : net_read_line(&conn, &line);
		if (n < 0) {
			fprintf(stderr, "hpload: no reply to '%.60s': %s\n", o->sends[i],
				strerror((int)-n));
			net_close(&conn);
			return 1;
		}
		printf("%s\n", line);
	}
	fflush(stdout);
	net_close(&conn);
	return 0;
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	workload_run(&j->cfg, &j->res);
	return NULL;
}

static void print_result(const struct options *o, const struct workload_result *sum, double elapsed)
{
	double rate = elapsed > 0 ? (double)sum->requests / elapsed : 0;
	uint64_t p50 = latency_percentile(&sum->lat, 50), p99 = latency_percentile(&sum->lat, 99);

	if (o->json) {
		printf("{\"connections\":%u,\"seconds\":%.3f,\"seed\":%" PRIu64
		       ",\"requests\":%" PRIu64 ",\"throughput\":%.0f,\"p50_us\":%" PRIu64
		       ",\"p99_us\":%" PRIu64 ",\"max_us\":%" PRIu64 ",\"errors\":%" PRIu64
		       ",\"mismatches\":%" PRIu64 "}\n",
		       o->connections, elapsed, o->seed, sum->requests, rate, p50, p99,
		       sum->lat.max_us, sum->errors, sum->mismatches);
		return;
	}
	printf("hpload: %u connections, %.2f s, %" PRIu64 " requests, seed %" PRIu64 "\n",
	       o->connections, elapsed, sum->requests, o->seed);
	printf("throughput: %.0f req/s\n", rate);
	printf("latency_us: p50 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "\n", p50, p99,
	       sum->lat.max_us);
	printf("errors: %" PRIu64 "\n", sum->errors);
	printf("mismatches: %" PRIu64 "\n", sum->mismatches);
}

static void on_stop_signal(int sig)
{
	(void)sig;
	workload_request_stop();
}

/* SIGINT/SIGTERM end the run early; the summary is still printed, so a
 * script can run the load for exactly as long as something else takes. */
static void catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int run_load(struct options *o)
{
	double limit = o->seconds > 0 ? o->seconds
		       : o->requests  ? DEFAULT_DEADLINE_S
				      : DEFAULT_SECONDS;
	struct workload_result *sum;
	struct job *jobs;
	uint64_t start, deadline;
	unsigned started = 0;
	int status = 1;

	jobs = calloc(o->connections, sizeof(*jobs));
	sum = calloc(1, sizeof(*sum));
	if (!jobs || !sum) {
		fprintf(stderr, "hpload: out of memory\n");
		goto out;
	}
	catch_stop_signals();
	start = workload_now_ns();
	deadline = start + (uint64_t)(limit * 1e9);
	for (; started < o->connections; started++) {
		struct job *j = &jobs[started];

		j->cfg.port = o->port;
		j->cfg.id = started;
		j->cfg.seed = o->seed;
		j->cfg.deadline_ns = deadline;
		j->cfg.verbose_mismatches = 5;
		/* Split --requests evenly; the first ones take the remainder. */
		if (o->requests)
			j->cfg.max_requests = o->requests / o->connections +
					      (started < o->requests % o->connections);
		if (o->requests && j->cfg.max_requests == 0)
			break;
		if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
			fprintf(stderr, "hpload: cannot start thread %u\n", started);
			sum->errors++;
			break;
		}
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(jobs[i].thread, NULL);
		sum->requests += jobs[i].res.requests;
		sum->errors += jobs[i].res.errors;
		sum->mismatches += jobs[i].res.mismatches;
		latency_merge(&sum->lat, &jobs[i].res.lat);
	}
	print_result(o, sum, (double)(workload_now_ns() - start) / 1e9);
	status = sum->errors || sum->mismatches ? 1 : 0;
out:
	free(sum);
	free(jobs);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = {.connections = 4, .seed = 1};
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	if (o.nsends)
		return run_sends(&o);
	return run_load(&o);
}
