/* stats.c — counters for STATS, HEALTH and the shutdown summary.
 * File-static on purpose: live patches of the functions below must keep
 * using these very variables (and their values), not fresh copies. */
#include "stats.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static unsigned long stat_requests;
static unsigned long stat_errors;
static unsigned long stat_conns_total;
static unsigned long stat_conns_active;
static time_t stat_started;

static inline void bump(unsigned long *counter, long by)
{
	__atomic_fetch_add(counter, (unsigned long)by, __ATOMIC_RELAXED);
}

static inline unsigned long peek(const unsigned long *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void stats_init(void)
{
	stat_started = time(NULL);
}

void stats_count_request(void)
{
	bump(&stat_requests, 1);
}

void stats_count_error(void)
{
	bump(&stat_errors, 1);
}

void stats_conn_opened(void)
{
	bump(&stat_conns_total, 1);
	bump(&stat_conns_active, 1);
}

void stats_conn_closed(void)
{
	bump(&stat_conns_active, -1);
}

unsigned long stats_requests(void)
{
	return peek(&stat_requests);
}

unsigned long stats_errors(void)
{
	return peek(&stat_errors);
}

unsigned long stats_connections(void)
{
	return peek(&stat_conns_total);
}

const char *stats_health(void)
{
	return peek(&stat_requests) > 0 ? "cold" : "warm";
}

size_t stats_format(char *buf, size_t size, size_t keys)
{
	int len = snprintf(
		buf, size,
		"requests=%lu errors=%lu connections=%lu active=%lu keys=%zu uptime=%ld pid=%d",
		peek(&stat_requests), peek(&stat_errors), peek(&stat_conns_total),
		peek(&stat_conns_active), keys, (long)(time(NULL) - stat_started), (int)getpid());

	if (len < 0)
		return 0;
	return (size_t)len < size ? (size_t)len : size - 1;
}
