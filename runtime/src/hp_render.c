/* What list and status say, and which threads still run old code: the
 * control channel's rendering, from snapshots of the registry. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hp_core.h"
#include "hp_json.h"

static void thread_name(pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, len, f))
		snprintf(buf, len, "exited");
	buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* Threads listed per function before "and N more". */
#define ACTIVE_THREADS_SHOWN 8

static void render_active_threads(FILE *f, const struct hp_active_report *rep, size_t range,
				  int json)
{
	size_t shown = 0, more = 0;

	for (size_t i = 0; i < rep->nhits; i++) {
		const struct hp_active_hit *h = &rep->hits[i];
		char name[32];

		if (h->range != range)
			continue;
		if (!json && shown == ACTIVE_THREADS_SHOWN) {
			more++;
			continue;
		}
		thread_name(h->tid, name, sizeof(name));
		if (json) {
			fprintf(f, "%s{\"tid\":%d,\"name\":", shown ? "," : "", (int)h->tid);
			hp_json_str(f, name);
			fprintf(f, ",\"executing\":%s}", h->executing ? "true" : "false");
		} else {
			fprintf(f, "%s%d (%s)", shown ? ", " : "", (int)h->tid, name);
		}
		shown++;
	}
	if (more)
		fprintf(f, " and %zu more", more);
}

static size_t threads_on(const struct hp_active_report *rep, size_t range)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->nhits; i++)
		n += rep->hits[i].range == range;
	return n;
}

/* What a scan found: text lines, or (json) the members
 * "active":[...],"scan":{...} without a leading comma. */
static void active_render(FILE *f, const struct hp_code_range *r,
			  const struct hp_active_report *rep, int json, int with_patch)
{
	size_t nranges = 0, k = 0;

	for (size_t i = 0; i < rep->nhits; i++)
		if (rep->hits[i].range + 1 > nranges)
			nranges = rep->hits[i].range + 1;
	if (json)
		fputs("\"active\":[", f);
	for (size_t i = 0; i < nranges; i++) {
		size_t n = threads_on(rep, i);

		if (!n)
			continue;
		if (json) {
			fprintf(f, "%s{\"patch\":%u,\"function\":", k ? "," : "", r[i].patch);
			hp_json_str(f, r[i].name);
			fputs(",\"threads\":[", f);
			render_active_threads(f, rep, i, 1);
			fputs("]}", f);
		} else {
			if (with_patch)
				fprintf(f, "patch %u: ", r[i].patch);
			fprintf(f, "%s() is running on thread%s ", r[i].name, n > 1 ? "s" : "");
			render_active_threads(f, rep, i, 0);
			fprintf(f, ": %s its old code until it returns\n",
				n > 1 ? "they keep" : "it keeps");
		}
		k++;
	}
	if (json) {
		fprintf(f,
			"],\"scan\":{\"threads\":%zu,\"checked\":%zu,\"signalled\":%zu,"
			"\"pause_ns_max\":%llu,\"pause_ns_total\":%llu,\"scan_ns\":%llu,"
			"\"unchecked\":[",
			rep->threads, rep->checked, rep->signalled,
			(unsigned long long)rep->pause_ns_max,
			(unsigned long long)rep->pause_ns_total, (unsigned long long)rep->scan_ns);
		for (size_t i = 0; i < rep->nunchecked && i < HP_ACTIVE_UNCHECKED_MAX; i++) {
			fprintf(f, "%s{\"tid\":%d,\"why\":", i ? "," : "",
				(int)rep->unchecked[i].tid);
			hp_json_str(f, rep->unchecked[i].why);
			fputc('}', f);
		}
		fputs("]}", f);
		return;
	}
	for (size_t i = 0; i < rep->nunchecked && i < HP_ACTIVE_UNCHECKED_MAX; i++)
		fprintf(f, "thread %d not checked for old code: %s\n", (int)rep->unchecked[i].tid,
			rep->unchecked[i].why);
	if (rep->nunchecked > HP_ACTIVE_UNCHECKED_MAX)
		fprintf(f, "and %zu more threads not checked\n",
			rep->nunchecked - HP_ACTIVE_UNCHECKED_MAX);
}

static void iso_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Through the public list API: list and status say what it says. */
static void render_patches(FILE *f, const struct hp_list *l, int json)
{
	for (size_t i = 0; i < hp_list_count(l); i++) {
		const char *signer = hp_list_signer(l, i);
		struct hp_patch_info p;
		char when[32];

		hp_list_patch(l, i, &p);
		iso_time(&p.applied, when, sizeof(when));
		if (json) {
			fprintf(f, "%s{\"id\":%u,\"name\":", i ? "," : "", p.id);
			hp_json_str(f, p.name);
			fputs(",\"target\":", f);
			hp_json_str(f, p.target);
			fputs(",\"signer\":", f);
			hp_json_str(f, signer);
			fprintf(f, ",\"applied\":\"%s\",\"applied_ns\":%lld,\"functions\":[", when,
				(long long)p.applied.tv_sec * 1000000000ll + p.applied.tv_nsec);
			for (size_t j = 0; j < p.func_count; j++) {
				fputs(j ? "," : "", f);
				hp_json_str(f, hp_list_func(l, i, j));
			}
			fputs("]}", f);
			continue;
		}
		fprintf(f, "%u\t%s\t%s\t%s\t%s\t", p.id, p.name, when, p.target, signer);
		for (size_t j = 0; j < p.func_count; j++)
			fprintf(f, "%s%s", j ? "," : "", hp_list_func(l, i, j));
		fputc('\n', f);
	}
}

void hp_render_old_code(FILE *f, unsigned id, int json, int status)
{
	struct hp_active_report rep;
	struct hp_code_range *r;
	size_t n;
	int ret = hp_patch_code_ranges(id, &r, &n);

	if (!ret)
		ret = hp_active_scan(r, n, &rep);
	if (ret) {
		if (!json)
			fprintf(f, "threads not checked for old code: %s\n", hp_strerror(ret));
		else if (status)
			fprintf(f, ",\"active\":null,\"scan\":{\"error\":\"%s\"}",
				hp_strerror(ret));
		free(r);
		return;
	}
	if (json)
		fputc(',', f);
	active_render(f, r, &rep, json, status);
	if (status && !json)
		fprintf(f,
			"old code: %zu of %zu threads checked (%zu by signal, longest pause "
			"%.1f us)\n",
			rep.checked, rep.threads, rep.signalled, rep.pause_ns_max / 1000.0);
	hp_active_report_free(&rep);
	free(r);
}

int hp_render(int status, int json, char **out)
{
	struct hp_list *l;
	size_t len, nsites, patched, trusted_keys;
	int trust_required;
	FILE *f;
	int ret = hp_list_get(&l);

	if (ret)
		return ret;
	f = open_memstream(out, &len);
	if (!f) {
		hp_list_free(l);
		return -ENOMEM;
	}
	hp_registry_counts(&nsites, &patched);
	trust_required = hp_trust_required(&trusted_keys);
	if (json) {
		fputc('{', f);
		if (status) {
			fprintf(f, "\"pid\":%d,\"version\":\"%s\",\"sync\":\"%s\",\"socket\":",
				(int)getpid(), hp_version(), hp_sync_mode());
			hp_json_str(f, hp_listener_path());
			fprintf(f, ",\"functions_patched\":%zu,\"sites\":%zu,\"trampolines\":%zu,",
				patched, nsites, hp_tramp_in_use());
			if (trust_required)
				fprintf(f, "\"trusted_keys\":%zu,", trusted_keys);
			else
				fputs("\"trusted_keys\":null,", f);
		}
		fputs("\"patches\":[", f);
		render_patches(f, l, 1);
		fputc(']', f);
		if (status)
			hp_render_old_code(f, 0, 1, 1);
		fputs("}\n", f);
	} else {
		if (status)
			fprintf(f,
				"pid %d, libhotpatch %s, core sync %s, socket %s\n"
				"%zu patches applied, %zu functions patched, %zu trampolines\n",
				(int)getpid(), hp_version(), hp_sync_mode(), hp_listener_path(),
				hp_list_count(l), patched, hp_tramp_in_use());
		if (status && trust_required)
			fprintf(f, "packages must be signed by one of %zu trusted keys\n",
				trusted_keys);
		else if (status)
			fputs("unsigned packages accepted (no HOTPATCH_TRUSTED_KEYS)\n", f);
		if (!status || hp_list_count(l)) {
			if (hp_list_count(l))
				fputs("ID\tNAME\tAPPLIED\tTARGET\tSIGNER\tFUNCTIONS\n", f);
			else
				fputs("no patches applied\n", f);
			render_patches(f, l, 0);
		}
		if (status && hp_list_count(l))
			hp_render_old_code(f, 0, 0, 1);
	}
	hp_list_free(l);
	return fclose(f) ? -ENOMEM : 0;
}
