/* Building the package: the recompile and link steps of build.h and the
 * temporary files all steps share (the manifest and the write: manifest.c). */
#define _GNU_SOURCE
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_package.h"
#include "recompile.h"

#ifndef HP_PACKAGE_LD
#define HP_PACKAGE_LD ""
#endif

/* b->dir/<stem><n><ext>, remembered for cleanup. */
static char *temp_path(struct mp_build *b, const char *stem, unsigned n, const char *ext)
{
	char *path;
	if (asprintf(&path, "%s/%s%u%s", b->dir, stem, n, ext) < 0)
		return NULL;
	char **f = realloc(b->files, (b->nfiles + 1) * sizeof(*f));
	if (!f) {
		free(path);
		return NULL;
	}
	b->files = f;
	b->files[b->nfiles++] = path;
	return path;
}

/* TUs to rebuild: those defining functions of P, new functions, new
 * variables or changed constants (a patch function may call or use them). */
static void mark_tus(const struct mp_program *new)
{
	for (uint32_t i = 0; i < new->ntus; i++)
		new->tus[i].recompile = false;
	for (uint32_t i = 0; i < new->nfuncs; i++)
		if (new->funcs[i].in_p)
			new->funcs[i].tu->recompile = true;
	for (uint32_t i = 0; i < new->nvars; i++)
		if (new->vars[i].status == MP_NEW || new->vars[i].const_changed)
			new->vars[i].tu->recompile = true;
}

static const char *find_linker_script(const struct mp_build_opts *o)
{
	static char installed[4096];
	if (o->linker_script)
		return o->linker_script;
	const char *env = getenv("HOTPATCH_PACKAGE_LD");
	if (env && *env)
		return env;
	ssize_t n = readlink("/proc/self/exe", installed, sizeof(installed) - 64);
	if (n > 0) {
		installed[n] = 0;
		char *slash = strrchr(installed, '/');
		if (slash) {
			strcpy(slash, "/../share/hotpatch/hotpatch-package.ld");
			if (!access(installed, R_OK))
				return installed;
		}
	}
	if (*HP_PACKAGE_LD && !access(HP_PACKAGE_LD, R_OK))
		return HP_PACKAGE_LD;
	return NULL;
}

static int link_objects(const struct mp_build *b, const struct mp_program *new, struct mp_diag *d)
{
	const struct mp_build_opts *o = b->opts;
	const char *so = b->so;
	const char *cc = NULL;
	for (uint32_t i = 0; i < new->ntus && !cc; i++)
		if (new->tus[i].recompile &&new->tus[i].argc)
			cc = new->tus[i].argv[0];
	const char *lds = find_linker_script(o);
	char *script = NULL;
	if (lds && asprintf(&script, "-Wl,-T,%s", lds) < 0)
		return mp_fail(d, ENOMEM, "out of memory");
	const char **argv = calloc(b->nobjs + 10, sizeof(*argv));
	if (!argv) {
		free(script);
		return mp_fail(d, ENOMEM, "out of memory");
	}
	size_t n = 0;
	argv[n++] = cc;
	argv[n++] = "-shared";
	/* No start files: crtbeginS.o's initialisers would run inside the
	 * server when it loads the package, before the runtime has checked it
	 * (the runtime refuses a package with any). */
	argv[n++] = "-nostartfiles";
	argv[n++] = "-fPIC";
	argv[n++] = "-Wl,-Bsymbolic";
	if (script)
		argv[n++] = script;
	argv[n++] = "-o";
	argv[n++] = so;
	for (size_t i = 0; i < b->nobjs; i++)
		argv[n++] = b->objs[i];
	int rc = mp_run_command(argv, NULL, NULL, o->log, b->log_fd, d);
	free(argv);
	free(script);
	if (rc < 0)
		return rc == -ENOMEM ? rc : mp_fail(d, HP_ERECOMPILE, "%s", d->msg);
	if (rc)
		return mp_fail(d, HP_ERECOMPILE, "linking the patch with '%s' failed (exit %d)", cc,
			       rc);
	if (access(so, R_OK))
		return mp_fail(d, HP_ERECOMPILE, "linking the patch: '%s' not written", so);
	return 0;
}

/* Recompiles every marked TU. A refusal from the plugin (an unsafe change
 * it found, written to the TU's refusals file) does not stop the others,
 * so that every culprit is reported at once; any other failure does. */
static int recompile_all(struct mp_build *b, const struct mp_program *old,
			 const struct mp_program *new, struct mp_findings *fi, struct mp_diag *d)
{
	bool refused = false;
	b->objs = calloc(new->ntus + 1, sizeof(*b->objs));
	if (!b->objs)
		return mp_fail(d, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < new->ntus; i++) {
		const struct mp_tu *tu = &new->tus[i];
		if (!tu->recompile)
			continue;
		char *spec = temp_path(b, "tu", i, ".spec");
		char *obj = temp_path(b, "tu", i, ".o");
		char *refusals = temp_path(b, "tu", i, ".refusals");
		if (!spec || !obj || !refusals)
			return mp_fail(d, ENOMEM, "out of memory");
		int err = mp_write_spec(old, new, tu, spec, refusals, d);
		if (!err)
			err = mp_recompile(new, tu, spec, obj, b->opts->log, b->log_fd, d);
		if (err && err != -ENOMEM) {
			int n = mp_read_refusals(refusals, fi, d);
			if (n < 0)
				return n;
			if (n > 0) {
				refused = true;
				continue;
			}
		}
		if (err)
			return err;
		b->objs[b->nobjs++] = obj;
	}
	if (refused)
		return -HP_EREFUSED;
	if (!b->nobjs)
		return mp_fail(d, HP_ERECOMPILE, "nothing to recompile");
	return 0;
}

/* A failed compile's message gains the compiler's first error line from the
 * log, so the one line mkpatch prints says what went wrong. */
static void add_first_error(const char *log_path, struct mp_diag *d)
{
	FILE *f = log_path ? fopen(log_path, "r") : NULL;
	char line[512];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "error"))
			continue;
		line[strcspn(line, "\n")] = 0;
		size_t used = strlen(d->msg);
		if (used + 2 < sizeof(d->msg))
			snprintf(d->msg + used, sizeof(d->msg) - used, ": %s", line);
		break;
	}
	fclose(f);
}

void mp_build_init(struct mp_build *b, const struct mp_build_opts *o)
{
	memset(b, 0, sizeof(*b));
	b->opts = o;
	b->log_fd = -1;
}

/* The compiler log, then the temporary directory. */
static int create_outputs(struct mp_build *b, struct mp_diag *d)
{
	const struct mp_build_opts *o = b->opts;
	if (o->compiler_log) {
		b->log_fd = open(o->compiler_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (b->log_fd < 0)
			return mp_fail(d, errno, "cannot write '%s': %s", o->compiler_log,
				       strerror(errno));
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(b->dir, sizeof(b->dir), "%s/mkpatch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b->dir)) {
		int e = errno;
		b->dir[0] = 0;
		return mp_fail(d, e, "cannot create a temporary directory: %s", strerror(e));
	}
	return 0;
}

/* The compilers are done with it once the patch is linked (or failed). */
static void close_compiler_log(struct mp_build *b)
{
	if (b->log_fd >= 0)
		close(b->log_fd);
	b->log_fd = -1;
}

int mp_build_recompile(struct mp_build *b, const struct mp_program *old,
		       const struct mp_program *new, struct mp_findings *fi, struct mp_diag *d)
{
	int err = create_outputs(b, d);
	if (!err) {
		mark_tus(new);
		err = recompile_all(b, old, new, fi, d);
	}
	if (err)
		close_compiler_log(b);
	if (err == -HP_ERECOMPILE)
		add_first_error(b->opts->compiler_log, d);
	return err;
}

int mp_build_link(struct mp_build *b, const struct mp_program *new, struct mp_diag *d)
{
	b->so = temp_path(b, "patch", 0, ".so");
	int err = b->so ? link_objects(b, new, d) : mp_fail(d, ENOMEM, "out of memory");
	close_compiler_log(b);
	if (err == -HP_ERECOMPILE)
		add_first_error(b->opts->compiler_log, d);
	return err;
}

static void remove_temps(struct mp_build *b)
{
	bool keep = b->opts && b->opts->keep_temps;
	for (size_t i = 0; i < b->nfiles; i++) {
		if (!keep)
			unlink(b->files[i]);
		free(b->files[i]);
	}
	free(b->files);
	b->files = NULL;
	b->nfiles = 0;
	b->so = NULL;
	if (!*b->dir)
		return;
	if (keep) {
		if (b->opts->log)
			fprintf(b->opts->log, "mkpatch: temporary files kept in '%s'\n", b->dir);
	} else {
		rmdir(b->dir);
	}
	b->dir[0] = 0;
}

void mp_build_release(struct mp_build *b)
{
	close_compiler_log(b);
	hp_pkg_builder_free(b->manifest);
	b->manifest = NULL;
	mp_program_release(&b->patch);
	free(b->objs);
	b->objs = NULL;
	b->nobjs = 0;
	remove_temps(b);
}
