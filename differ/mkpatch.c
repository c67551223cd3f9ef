/* mkpatch OLD NEW -o PKG: the pipeline of section 2 of DESIGN.md.
 *
 *   open both → correlate → compare → include (P) → check → emit
 *
 * Only this file prints and chooses exit statuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "check.h"
#include "correlate.h"
#include "diff.h"
#include "hp_package.h"
#include "report.h"

enum {
	EXIT_WRITTEN = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_NO_CHANGE = 4,
};

struct options {
	const char *old_path, *new_path, *output, *name, *linker_script, *sign_key;
	uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE]; /* read from sign_key */
	bool explain, json, dry_run, verbose, keep_temps, line_changes;
};

static void usage(FILE *out)
{
	fputs("usage: mkpatch [options] OLD NEW -o PKG\n"
	      "\n"
	      "Compares two builds of the same program (both built with the hotpatch\n"
	      "plugin) and writes a live patch replacing the functions that changed.\n"
	      "\n"
	      "  -o, --output PKG     package to write\n"
	      "      --explain        one line per function of the patch and why\n"
	      "      --json           the analysis as JSON on stdout\n"
	      "  -n, --dry-run        analysis only, no package (no -o needed)\n"
	      "      --name NAME      patch name (default: PKG's basename)\n"
	      "      --sign KEY       sign the package with KEY (hotpatch keygen's\n"
	      "                       PREFIX.key); processes started with\n"
	      "                       HOTPATCH_TRUSTED_KEYS accept only signed ones\n"
	      "      --linker-script FILE  package linker script\n"
	      "      --keep-temps     keep the patch-mode objects and specs\n"
	      "      --line-changes   also replace functions whose only change is the\n"
	      "                       line numbers they pass with __FILE__ (asserts,\n"
	      "                       log macros); by default they keep their old code\n"
	      "  -v, --verbose        show the commands run\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "exit status: 0 package written (--dry-run: analysis ok), 1 error,\n"
	      "2 usage, 3 refused (unsafe change; the reason names the culprit),\n"
	      "4 no change\n",
	      out);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_EXPLAIN = 256, OPT_JSON, OPT_NAME, OPT_KEEP, OPT_LDS, OPT_LINES, OPT_SIGN };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{"json", no_argument, NULL, OPT_JSON},
		{"dry-run", no_argument, NULL, 'n'},
		{"name", required_argument, NULL, OPT_NAME},
		{"linker-script", required_argument, NULL, OPT_LDS},
		{"keep-temps", no_argument, NULL, OPT_KEEP},
		{"line-changes", no_argument, NULL, OPT_LINES},
		{"sign", required_argument, NULL, OPT_SIGN},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "o:nvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_WRITTEN);
		case OPT_EXPLAIN:
			o->explain = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_LINES:
			o->line_changes = true;
			break;
		case OPT_KEEP:
			o->keep_temps = true;
			break;
		case OPT_LDS:
			o->linker_script = optarg;
			break;
		case OPT_SIGN:
			o->sign_key = optarg;
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "mkpatch: expected OLD and NEW, got %d argument(s)\n",
			argc - optind);
		return -1;
	}
	o->old_path = argv[optind];
	o->new_path = argv[optind + 1];
	if (!o->output && !o->dry_run) {
		fprintf(stderr, "mkpatch: -o PKG is required (or --dry-run)\n");
		return -1;
	}
	return 0;
}

/* An error: the library's message, or the code's meaning when it gave
 * none (never strerror() of an MP_E* code). */
static int fail(const struct mp_diag *d, int err)
{
	fprintf(stderr, "mkpatch: %s\n", d->msg[0] ? d->msg : hp_strerror(err));
	return EXIT_ERROR;
}

/* The patch name: --name, else PKG's basename without its extension. */
static char *patch_name(const struct options *o)
{
	char *copy = strdup(o->name ? o->name : o->output ? o->output : "patch");
	if (!copy || o->name)
		return copy;
	char *base = strdup(basename(copy));
	free(copy);
	if (base) {
		char *dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = 0;
	}
	return base;
}

static int analyse(const struct options *o, struct mp_program *old, struct mp_program *new,
		   struct mp_diff_stats *st, struct mp_findings *fi, struct mp_diag *d)
{
	int err = mp_correlate(old, new, d);
	if (err)
		return err;
	mp_compare(old, new);
	if (o->line_changes)
		mp_compare_include_lines(new);
	err = mp_check_machine_code(old, new, fi);
	if (!err)
		err = mp_include(old, new, st);
	if (!err)
		err = mp_check_metadata(old, new, fi);
	if (!err)
		err = mp_check_types(old, new, fi);
	for (uint32_t i = 0; !err && i < new->nfuncs; i++)
		if (new->funcs[i].beside_old) /* not replaced: new, beside the old */
			st->replaced--;
	if (err == -ENOMEM)
		mp_fail(d, ENOMEM, "out of memory");
	return err;
}

/* The compilers' own messages (warnings of the program's code, mostly) are
 * not mkpatch's report: they went to PKG.log. Say where, show them with -v,
 * and leave no empty log behind. */
static void show_compiler_log(const struct options *o, const char *path)
{
	struct stat st;
	if (stat(path, &st))
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

static int emit(const struct options *o, const struct mp_program *old, const struct mp_program *new,
		struct mp_findings *fi, struct mp_diag *d)
{
	char *name = patch_name(o), *compiler_log = NULL;
	if (!name || asprintf(&compiler_log, "%s.log", o->output) < 0) {
		free(name);
		return mp_fail(d, ENOMEM, "out of memory");
	}
	struct mp_build_opts bo = {
		.output = o->output,
		.name = name,
		.description = "",
		.linker_script = o->linker_script,
		.keep_temps = o->keep_temps,
		.log = o->verbose ? stderr : NULL,
		.compiler_log = compiler_log,
		.secret_key = o->sign_key ? o->secret_key : NULL,
	};
	int err = mp_build_package(old, new, &bo, fi, d);
	show_compiler_log(o, compiler_log);
	free(compiler_log);
	free(name);
	return err;
}

static int report(const struct options *o, const struct mp_program *old,
		  const struct mp_program *new, const struct mp_diff_stats *st,
		  const struct mp_findings *fi, enum mp_outcome outcome, bool written)
{
	if (o->json) {
		mp_report_json(stdout, old, new, st, fi, outcome, written ? o->output : NULL);
	} else {
		if (o->explain)
			mp_report_explain(stdout, new);
		if (o->verbose || outcome == MP_OUT_OK)
			mp_report_summary(stderr, st, fi);
	}
	for (size_t i = 0; i < fi->nrefusals; i++)
		fprintf(stderr, "mkpatch: refused: %s\n", fi->refusals[i]);
	if (outcome == MP_OUT_NO_CHANGE)
		fprintf(stderr, "mkpatch: no change: '%s' and '%s' have the same functions\n",
			o->old_path, o->new_path);
	if (written)
		fprintf(stderr, "mkpatch: wrote '%s'\n", o->output);
	switch (outcome) {
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
	struct options o = {0};
	/* Every line whole: the report (stdout) and the diagnostics (stderr)
	 * often share one file, and a block-buffered stdout would split lines
	 * between them. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct mp_diag d = {{0}};
	struct mp_program old, new;
	struct mp_findings fi = {0};
	struct mp_diff_stats st = {0};
	int status = EXIT_ERROR, err;

	/* The key first: a bad key should not wait for a whole analysis. */
	if (o.sign_key) {
		char why[512];
		if (hp_pkg_key_read_secret(o.sign_key, o.secret_key, why, sizeof(why))) {
			fprintf(stderr, "mkpatch: --sign: %s\n", why);
			return EXIT_ERROR;
		}
	}

	if ((err = mp_program_open(&old, o.old_path, "OLD", &d))) {
		status = fail(&d, err);
		goto out_old;
	}
	if ((err = mp_program_open(&new, o.new_path, "NEW", &d))) {
		status = fail(&d, err);
		goto out_new;
	}
	if ((err = analyse(&o, &old, &new, &st, &fi, &d))) {
		status = fail(&d, err);
		goto out_new;
	}
	enum mp_outcome outcome = fi.nrefusals	     ? MP_OUT_REFUSED
				  : st.replaced == 0 ? MP_OUT_NO_CHANGE
						     : MP_OUT_OK;
	bool written = false;
	if (outcome == MP_OUT_OK && !o.dry_run) {
		err = emit(&o, &old, &new, &fi, &d);
		if (err == -HP_EREFUSED && fi.nrefusals) {
			outcome = MP_OUT_REFUSED;
		} else if (err) {
			status = fail(&d, err);
			goto out_new;
		} else {
			written = true;
		}
	}
	status = report(&o, &old, &new, &st, &fi, outcome, written);
out_new:
	mp_program_release(&new);
out_old:
	mp_program_release(&old);
	mp_findings_release(&fi);
	explicit_bzero(o.secret_key, sizeof(o.secret_key));
	return status;
}
