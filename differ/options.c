/* mkpatch's options (see options.h and docs/mkpatch.md). */
#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

void mp_options_usage(FILE *out)
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

/* One option getopt returned; false for one it does not know. */
static bool set_option(struct mp_options *o, int c)
{
	switch (c) {
	case 'o':
		o->output = optarg;
		return true;
	case 'n':
		o->dry_run = true;
		return true;
	case 'v':
		o->verbose = true;
		return true;
	case 'h':
		o->help = true;
		return true;
	case OPT_EXPLAIN:
		o->explain = true;
		return true;
	case OPT_JSON:
		o->json = true;
		return true;
	case OPT_NAME:
		o->name = optarg;
		return true;
	case OPT_LINES:
		o->line_changes = true;
		return true;
	case OPT_KEEP:
		o->keep_temps = true;
		return true;
	case OPT_LDS:
		o->linker_script = optarg;
		return true;
	case OPT_SIGN:
		o->sign_key = optarg;
		return true;
	default:
		return false;
	}
}

int mp_options_parse(int argc, char **argv, struct mp_options *o, struct mp_diag *d)
{
	memset(o, 0, sizeof(*o));
	if (d)
		d->msg[0] = 0;
	/* 0, not 1: glibc then starts afresh, so the parser can run again
	 * (the unit tests call it once per command line). */
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:nvh", longopts, NULL)) != -1) {
		if (!set_option(o, c))
			return -EINVAL;
		if (o->help)
			return 0; /* the help, whatever follows */
	}
	if (argc - optind != 2)
		return mp_fail(d, EINVAL, "expected OLD and NEW, got %d argument(s)",
			       argc - optind);
	o->old_path = argv[optind];
	o->new_path = argv[optind + 1];
	if (!o->output && !o->dry_run)
		return mp_fail(d, EINVAL, "-o PKG is required (or --dry-run)");
	return 0;
}
