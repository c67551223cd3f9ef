/* latency.h — a fixed-resolution latency histogram (1 µs buckets). */
#ifndef HPLOAD_LATENCY_H
#define HPLOAD_LATENCY_H

#include <stdint.h>

/* Up to 100 ms in 1 µs steps; slower requests share the last bucket but
 * still count exactly towards max. */
#define LAT_BUCKETS 100000

struct latency {
	uint64_t count;
	uint64_t max_us;
	uint32_t bucket[LAT_BUCKETS];
};

void latency_add(struct latency *l, uint64_t us);
/* Adds @from's samples to @into. */
void latency_merge(struct latency *into, const struct latency *from);
/* The smallest latency that @pct percent of the samples do not exceed. */
uint64_t latency_percentile(const struct latency *l, double pct);

#endif
