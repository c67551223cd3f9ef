/* workload.h — what one hpload connection does: random requests on its own
 * keys, each reply checked against a model of what the server must hold. */
#ifndef HPLOAD_WORKLOAD_H
#define HPLOAD_WORKLOAD_H

#include <stdint.h>

#include "latency.h"

struct workload_config {
	unsigned short port;
	unsigned id; /* connection number, part of every key */
	uint64_t seed;
	uint64_t max_requests;	/* 0: no limit */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC */
	int verbose_mismatches; /* how many to describe on stderr */
};

struct workload_result {
	uint64_t requests;
	uint64_t errors;
	uint64_t mismatches;
	struct latency lat;
};

/* Runs one connection to completion (pthread start routine shape is left
 * to the caller). Never exits the process. */
void workload_run(const struct workload_config *cfg, struct workload_result *res);

/* Asks every running connection to stop after its current request, as if
 * the deadline had passed. Async-signal-safe (one lock-free atomic store),
 * so a SIGINT/SIGTERM handler may call it. */
void workload_request_stop(void);

/* Monotonic clock in nanoseconds. */
uint64_t workload_now_ns(void);

#endif
