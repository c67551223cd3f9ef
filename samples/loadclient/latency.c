/* latency.c — histogram merge and percentiles. */
#include "latency.h"

void latency_add(struct latency *l, uint64_t us)
{
	l->bucket[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
	l->count++;
	if (us > l->max_us)
		l->max_us = us;
}

void latency_merge(struct latency *into, const struct latency *from)
{
	for (unsigned i = 0; i < LAT_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max_us > into->max_us)
		into->max_us = from->max_us;
}

uint64_t latency_percentile(const struct latency *l, double pct)
{
	/* Rank of the sample we want, 1-based, rounded up. */
	uint64_t rank = (uint64_t)((double)l->count * pct / 100.0 + 0.999999), seen = 0;

	if (l->count == 0)
		return 0;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < LAT_BUCKETS; i++) {
		seen += l->bucket[i];
		if (seen >= rank)
			return i == LAT_BUCKETS - 1 ? l->max_us : i;
	}
	return l->max_us;
}
