/* stats.h — process-wide counters behind STATS, HEALTH and the shutdown
 * summary. All updates are relaxed atomics: the numbers are for humans. */
#ifndef HPKV_STATS_H
#define HPKV_STATS_H

#include <stddef.h>

/* Records the start time for the uptime field. */
void stats_init(void);
void stats_count_request(void);
void stats_count_error(void);
void stats_conn_opened(void);
void stats_conn_closed(void);
unsigned long stats_requests(void);
unsigned long stats_errors(void);
unsigned long stats_connections(void);
/* "warm" once requests are being counted (the HEALTH request asking
 * counts itself), "cold" if the request counter reads 0. */
const char *stats_health(void);
/* Writes "requests=N errors=N ..." into @buf (NUL-terminated, truncated to
 * @size). @keys is the store's current key count. Returns the length. */
size_t stats_format(char *buf, size_t size, size_t keys);

#endif
