/* mkpatch OLD NEW -o PKG: the pipeline of section 2 of DESIGN.md, one
 * stage per call (pipeline.h):
 *
 *   open both → correlate → compare → include (P) → check
 *             → recompile → link → manifest → write
 *
 * Only this file prints and chooses exit statuses. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"
#include "pipeline.h"
#include "report.h"

enum {
	EXIT_WRITTEN = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_NO_CHANGE = 4,
};

/* An error: the library's message, or the code's meaning when it gave
 * none (never strerror() of a project code). */
static int fail(const struct mp_diag *d, int err)
{
	fprintf(stderr, "mkpatch: %s\n", d->msg[0] ? d->msg : hp_strerror(err));
	return EXIT_ERROR;
}

/* The compilers' own messages (warnings of the program's code, mostly) are
 * not mkpatch's report: they went to PKG.log. Say where, show them with -v,
 * and leave no empty log behind. */
static void show_compiler_log(const struct mp_options *o, const char *path)
{
	struct stat st;
	if (!path || stat(path, &st))
		return;
	if (st.st_size == 0) {
		unlink(path);
		return;
	}
	FILE *f = o->verbose ? fopen(path, "r") : NULL;
	if (f) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(f);
	}
	fprintf(stderr, "mkpatch: the compilers' messages are in '%s'%s\n", path,
		o->verbose ? "" : " (-v shows them)");
}

/* The analysis as asked for, the refusals, and the exit status of the
 * outcome. */
static int report(const struct mp_run *r)
{
	const struct mp_options *o = r->opts;
	if (o->json) {
		mp_report_json(stdout, &r->old, &r->new, &r->stats, &r->findings, r->outcome,
			       r->written ? o->output : NULL);
	} else {
		if (o->explain)
			mp_report_explain(stdout, &r->new);
		if (o->verbose || r->outcome == MP_OUT_OK)
			mp_report_summary(stderr, &r->stats, &r->findings);
	}
	for (size_t i = 0; i < r->findings.nrefusals; i++)
		fprintf(stderr, "mkpatch: refused: %s\n", r->findings.refusals[i]);
	if (r->outcome == MP_OUT_NO_CHANGE)
		fprintf(stderr, "mkpatch: no change: '%s' and '%s' have the same functions\n",
			o->old_path, o->new_path);
	if (r->written)
		fprintf(stderr, "mkpatch: wrote '%s'\n", o->output);
	switch (r->outcome) {
	case MP_OUT_REFUSED:
		return EXIT_REFUSED;
	case MP_OUT_NO_CHANGE:
		return EXIT_NO_CHANGE;
	default:
		return EXIT_WRITTEN;
	}
}

int main(int argc, char **argv)
{
	/* Every line whole: the report (stdout) and the diagnostics (stderr)
	 * often share one file, and a block-buffered stdout would split lines
	 * between them. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	struct mp_options o;
	struct mp_diag usage_error;
	if (mp_options_parse(argc, argv, &o, &usage_error)) {
		if (usage_error.msg[0])
			fprintf(stderr, "mkpatch: %s\n", usage_error.msg);
		mp_options_usage(stderr);
		return EXIT_USAGE;
	}
	if (o.help) {
		mp_options_usage(stdout);
		return EXIT_WRITTEN;
	}

	struct mp_run r;
	mp_run_init(&r, &o);
	int err = mp_stage_open(&r);
	if (!err)
		err = mp_stage_correlate(&r);
	if (!err)
		err = mp_stage_compare(&r);
	if (!err)
		err = mp_stage_include(&r);
	if (!err)
		err = mp_stage_check(&r);
	if (!err && r.outcome == MP_OUT_OK && !o.dry_run) {
		err = mp_stage_recompile(&r);
		if (!err)
			err = mp_stage_link(&r);
		if (!err)
			err = mp_stage_manifest(&r);
		if (!err)
			err = mp_stage_write(&r);
		mp_run_remove_temps(&r);
		show_compiler_log(&o, r.compiler_log);
	}
	int status = !err || err == -HP_EREFUSED ? report(&r) : fail(&r.diag, err);
	mp_run_release(&r);
	return status;
}
