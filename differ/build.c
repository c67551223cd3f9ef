/* Building the package: recompile → link → read the patch back → emit. */
#define _GNU_SOURCE
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "recompile.h"
#include "hp_metadata_format.h"

#ifndef HP_PACKAGE_LD
#define HP_PACKAGE_LD ""
#endif

struct temps {
	char dir[4096];
	char **files;
	size_t nfiles;
	bool keep;
};

/* t->dir/<stem><n><ext>, remembered for cleanup. */
static char *temp_path(struct temps *t, const char *stem, unsigned n, const char *ext)
{
	char *path;
	if (asprintf(&path, "%s/%s%u%s", t->dir, stem, n, ext) < 0)
		return NULL;
	char **f = realloc(t->files, (t->nfiles + 1) * sizeof(*f));
	if (!f) {
		free(path);
		return NULL;
	}
	t->files = f;
	t->files[t->nfiles++] = path;
	return path;
}

static void temps_release(struct temps *t, FILE *log)
{
	for (size_t i = 0; i < t->nfiles; i++) {
		if (!t->keep)
			unlink(t->files[i]);
		free(t->files[i]);
	}
	free(t->files);
	if (!*t->dir)
		return;
	if (t->keep) {
		if (log)
			fprintf(log, "mkpatch: temporary files kept in '%s'\n", t->dir);
	} else {
		rmdir(t->dir);
	}
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

static int link_package(const struct mp_program *new, char **objs, size_t nobjs, const char *so,
			const struct mp_build_opts *o, int out_fd, struct mp_diag *d)
{
	const char *cc = NULL;
	for (uint32_t i = 0; i < new->ntus && !cc; i++)
		if (new->tus[i].recompile &&new->tus[i].argc)
			cc = new->tus[i].argv[0];
	const char *lds = find_linker_script(o);
	char *script = NULL;
	if (lds && asprintf(&script, "-Wl,-T,%s", lds) < 0)
		return mp_fail(d, ENOMEM, "out of memory");
	const char **argv = calloc(nobjs + 10, sizeof(*argv));
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
	for (size_t i = 0; i < nobjs; i++)
		argv[n++] = objs[i];
	int rc = mp_run(argv, NULL, NULL, o->log, out_fd, d);
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
static int recompile_all(const struct mp_program *old, const struct mp_program *new,
			 struct temps *t, char ***objs, size_t *nobjs,
			 const struct mp_build_opts *o, int out_fd, struct mp_findings *fi,
			 struct mp_diag *d)
{
	bool refused = false;
	*objs = calloc(new->ntus + 1, sizeof(**objs));
	if (!*objs)
		return mp_fail(d, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < new->ntus; i++) {
		const struct mp_tu *tu = &new->tus[i];
		if (!tu->recompile)
			continue;
		char *spec = temp_path(t, "tu", i, ".spec");
		char *obj = temp_path(t, "tu", i, ".o");
		char *refusals = temp_path(t, "tu", i, ".refusals");
		if (!spec || !obj || !refusals)
			return mp_fail(d, ENOMEM, "out of memory");
		int err = mp_write_spec(old, new, tu, spec, refusals, d);
		if (!err)
			err = mp_recompile(new, tu, spec, obj, o->log, out_fd, d);
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
		(*objs)[(*nobjs)++] = obj;
	}
	if (refused)
		return -HP_EREFUSED;
	if (!*nobjs)
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

int mp_build_package(const struct mp_program *old, const struct mp_program *new,
		     const struct mp_build_opts *o, struct mp_findings *fi, struct mp_diag *d)
{
	int out_fd = -1;
	if (o->compiler_log) {
		out_fd = open(o->compiler_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0)
			return mp_fail(d, errno, "cannot write '%s': %s", o->compiler_log,
				       strerror(errno));
	}
	struct temps t = {.keep = o->keep_temps};
	const char *tmp = getenv("TMPDIR");
	snprintf(t.dir, sizeof(t.dir), "%s/mkpatch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t.dir)) {
		int e = errno;
		t.dir[0] = 0;
		if (out_fd >= 0)
			close(out_fd);
		return mp_fail(d, e, "cannot create a temporary directory: %s", strerror(e));
	}
	char **objs = NULL;
	size_t nobjs = 0;
	mark_tus(new);
	int err = recompile_all(old, new, &t, &objs, &nobjs, o, out_fd, fi, d);
	char *so = err ? NULL : temp_path(&t, "patch", 0, ".so");
	if (!err && !so)
		err = mp_fail(d, ENOMEM, "out of memory");
	if (!err)
		err = link_package(new, objs, nobjs, so, o, out_fd, d);
	if (out_fd >= 0)
		close(out_fd);
	if (err == -HP_ERECOMPILE)
		add_first_error(o->compiler_log, d);
	if (!err)
		err = mp_emit_package(old, new, so, o, fi, d);
	free(objs);
	temps_release(&t, o->log);
	return err;
}
