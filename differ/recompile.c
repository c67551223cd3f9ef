/* Patch-mode recompilation: the recorded driver command, with the output
 * redirected, dependency-file options dropped (they would overwrite the
 * user's build tree) and -fPIC added (the patch is a shared object). */
#define _GNU_SOURCE
#include "recompile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_metadata_format.h"

static bool defined_in_old_symtab(const struct mp_program *old, const char *name, int type)
{
	for (size_t i = 0; i < old->elf.nsyms; i++) {
		const struct mp_sym *s = &old->elf.syms[i];
		if (s->shndx && s->bind != 0 /* STB_LOCAL */ && !strcmp(s->name, name) &&
		    (s->type == type || (type == 1 && s->type == 6)))
			return true;
	}
	return false;
}

/* Each directive once: a name referenced by several kept bodies. */
struct spec_out {
	FILE *f;
	struct mp_map seen;
};

static void spec_line(struct spec_out *so, const char *kind, const char *name)
{
	if (mp_map_get(&so->seen, kind, name))
		return;
	mp_map_put(&so->seen, kind, name, (void *)1, NULL);
	fprintf(so->f, "%s %s\n", kind, name);
}

static void spec_ref_func(struct spec_out *f, const struct mp_program *old,
			  const struct mp_program *new, const struct mp_tu *tu, const char *name)
{
	const struct mp_func *g = mp_find_func(new, name, tu);
	/* A function beside its old self (changed signature) is not reached
	 * through OLD's entry, which stays the old function: the package's
	 * own definition (another of its TUs) is the one to call. */
	if (g && g->beside_old)
		return;
	if (g ? g->twin && !(g->tu == tu && g->in_p) : defined_in_old_symtab(old, name, 2))
		spec_line(f, "old-func", name);
}

static void spec_ref_var(struct spec_out *f, const struct mp_program *old,
			 const struct mp_program *new, const struct mp_tu *tu, const char *name)
{
	const struct mp_var *v = mp_find_var(new, name, tu);
	if (v ? v->twin && !v->const_changed : defined_in_old_symtab(old, name, 1))
		spec_line(f, "old-var", name);
}

int mp_write_spec(const struct mp_program *old, const struct mp_program *new,
		  const struct mp_tu *tu, const char *spec_path, const char *refusals_path,
		  struct mp_diag *d)
{
	struct spec_out so = {.f = fopen(spec_path, "w")}, *f = &so;
	if (!so.f)
		return mp_fail(d, errno, "cannot write '%s': %s", spec_path, strerror(errno));
	fprintf(so.f, "# mkpatch patch spec for %s\n", tu->source);
	if (refusals_path)
		fprintf(so.f, "refusals %s\n", refusals_path);
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		const struct mp_func *g = &new->funcs[i];
		if (g->tu != tu)
			continue;
		if (g->in_p && g->twin)
			spec_line(f, "keep", g->name);
		else if (g->twin)
			spec_line(f, "old-func", g->name);
		if (!g->in_p)
			continue; /* dropped: its references do not matter */
		for (uint32_t k = 0; k < g->ncalls; k++)
			spec_ref_func(f, old, new, tu, g->calls[k]);
		for (uint32_t k = 0; k < g->nvars; k++)
			spec_ref_var(f, old, new, tu, g->vars[k]);
	}
	for (uint32_t i = 0; i < new->nvars; i++) {
		const struct mp_var *v = &new->vars[i];
		if (v->tu == tu && v->twin && !v->const_changed)
			spec_line(f, "old-var", v->name); /* a changed constant: NEW's is kept */
	}
	mp_map_release(&so.seen);
	if (fclose(so.f))
		return mp_fail(d, EIO, "cannot write '%s'", spec_path);
	return 0;
}

int mp_read_refusals(const char *path, struct mp_findings *fi, struct mp_diag *d)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT
			       ? 0
			       : mp_fail(d, errno, "cannot read '%s': %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int n = 0, err = 0;
	while (!err && (len = getline(&line, &cap, f)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len)
			continue;
		err = mp_refuse(fi, "%s", line);
		n++;
	}
	free(line);
	fclose(f);
	return err ? mp_fail(d, ENOMEM, "out of memory") : n;
}

static void log_command(FILE *log, const char *const *argv, const char *cwd, const char *env)
{
	if (!log)
		return;
	fprintf(log, "mkpatch: (cd %s &&%s%s", cwd ? cwd : ".", env ? " " : "", env ? env : "");
	for (size_t i = 0; argv[i]; i++)
		fprintf(log, " %s", argv[i]);
	fputs(")\n", log);
}

int mp_run_command(const char *const *argv, const char *cwd, const char *env, FILE *log, int out_fd,
		   struct mp_diag *d)
{
	log_command(log, argv, cwd, env);
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC))
		return mp_fail(d, errno, "pipe: %s", strerror(errno));
	if (log)
		fflush(log);
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return mp_fail(d, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int e = 0;
		if (out_fd >= 0 &&
		    (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0))
			e = errno;
		if (!e && cwd && chdir(cwd))
			e = errno;
		if (!e && env)
			putenv((char *)env);
		if (!e) {
			execvp(argv[0], (char *const *)argv);
			e = errno;
		}
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	int child_errno = 0;
	ssize_t n = read(pipefd[0], &child_errno, sizeof(child_errno));
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return mp_fail(d, errno, "waitpid: %s", strerror(errno));
	if (n == sizeof(child_errno))
		return mp_fail(d, child_errno, "cannot run '%s' in '%s': %s", argv[0],
			       cwd ? cwd : ".", strerror(child_errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static bool is_dep_option_with_arg(const char *a)
{
	return !strcmp(a, "-MF") || !strcmp(a, "-MT") || !strcmp(a, "-MQ");
}

/* Dependency-file options in one word: -MD, -MMD, -MP, -MG, -MFfile,
 * -MTtarget, -MQtarget, -Wp,-MD,file. The patch's compile writes no
 * dependency file, and the rest of the family alone is an error: automake's
 * "-MT x.o -MD -MP -MF .deps/x.Tpo" without -MD/-MF leaves -MP, and GCC
 * stops with "to generate dependencies you must specify either -M or -MM". */
static bool is_dep_option(const char *a)
{
	return !strcmp(a, "-MD") || !strcmp(a, "-MMD") || !strcmp(a, "-MP") || !strcmp(a, "-MG") ||
	       !strncmp(a, "-MF", 3) || !strncmp(a, "-MT", 3) || !strncmp(a, "-MQ", 3) ||
	       !strncmp(a, "-Wp,-M", 6);
}

static bool same_command(const struct mp_tu *a, const struct mp_tu *b)
{
	if (a->argc != b->argc || strcmp(a->cwd, b->cwd))
		return false;
	for (uint32_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]))
			return false;
	return true;
}

/* a is the source of another TU that the same command compiled
 * (`cc -o prog a.c b.c` records that argv for both): compiling it with
 * -c -o OBJ would be "cannot specify -o when generating multiple output
 * files", and it is not this TU anyway. */
static bool other_source(const struct mp_program *p, const struct mp_tu *tu, const char *a)
{
	if (!strcmp(a, tu->source))
		return false;
	for (uint32_t i = 0; i < p->ntus; i++) {
		const struct mp_tu *o = &p->tus[i];
		if (o != tu && !strcmp(o->source, a) && same_command(o, tu))
			return true;
	}
	return false;
}

/* The recorded argv with -o/-M* and other TUs' sources dropped and -fPIC,
 * -c, -o obj added. GCC with -fPIC assumes that a global function may be
 * interposed at load time, so it stops inlining, splitting (foo.part.N) and
 * cloning global functions: the patch's code would then differ from NEW's
 * and lack NEW's clones. A TU built without -fPIC made no such assumption,
 * so its recompile gets -fno-semantic-interposition, which keeps exactly
 * those decisions; so did a TU built -fPIE (Debian's default). Clang ignores
 * interposition for these already; a TU built -fPIC for a shared library
 * keeps its own assumption. */
static const char **patch_argv(const struct mp_program *p, const struct mp_tu *tu, const char *obj)
{
	const char **v = calloc((size_t)tu->argc + 7, sizeof(*v));
	if (!v)
		return NULL;
	size_t n = 0;
	bool has_c = false;
	for (uint32_t i = 0; i < tu->argc; i++) {
		const char *a = tu->argv[i];
		if (i > 0 && (!strcmp(a, "-o") || is_dep_option_with_arg(a))) {
			i++;
			continue;
		}
		if (i > 0 && ((!strncmp(a, "-o", 2) && a[2]) || is_dep_option(a)))
			continue;
		if (i > 0 && other_source(p, tu, a))
			continue;
		has_c |= !strcmp(a, "-c");
		v[n++] = a;
	}
	if (!has_c)
		v[n++] = "-c";
	v[n++] = "-fPIC";
	if (tu->compiler == HP_MD_COMPILER_GCC &&
	    (!(tu->flags & HP_MD_TU_PIC) || tu->flags & HP_MD_TU_PIE))
		v[n++] = "-fno-semantic-interposition";
	v[n++] = "-o";
	v[n++] = obj;
	v[n] = NULL;
	return v;
}

static bool file_in(const char *dir, const char *path)
{
	char *full;
	if (path[0] == '/' || !*dir)
		return access(path, R_OK) == 0;
	if (asprintf(&full, "%s/%s", dir, path) < 0)
		return false;
	bool ok = access(full, R_OK) == 0;
	free(full);
	return ok;
}

int mp_recompile(const struct mp_program *p, const struct mp_tu *tu, const char *spec_path,
		 const char *obj_path, FILE *log, int out_fd, struct mp_diag *d)
{
	if (!tu->argc)
		return mp_fail(d, HP_ERECOMPILE, "no compile command recorded for '%s'",
			       tu->source);
	if (*tu->cwd && access(tu->cwd, X_OK))
		return mp_fail(d, HP_ERECOMPILE, "cannot recompile '%s': directory '%s' is gone",
			       tu->source, tu->cwd);
	if (!file_in(tu->cwd, tu->source))
		return mp_fail(d, HP_ERECOMPILE,
			       "cannot recompile: source file '%s' not found (in '%s')", tu->source,
			       tu->cwd);
	const char **argv = patch_argv(p, tu, obj_path);
	char *env = NULL;
	if (!argv || asprintf(&env, "HOTPATCH_PATCH_SPEC=%s", spec_path) < 0) {
		free(argv);
		return mp_fail(d, ENOMEM, "out of memory");
	}
	unlink(obj_path);
	int rc = mp_run_command(argv, *tu->cwd ? tu->cwd : NULL, env, log, out_fd, d);
	free(argv);
	free(env);
	if (rc < 0) {
		if (rc == -ENOENT)
			return mp_fail(d, HP_ERECOMPILE,
				       "cannot recompile '%s': compiler '%s' not found", tu->source,
				       tu->argv[0]);
		return rc == -ENOMEM ? rc : -HP_ERECOMPILE;
	}
	if (rc)
		return mp_fail(d, HP_ERECOMPILE, "recompiling '%s' in patch mode failed (exit %d)",
			       tu->source, rc);
	struct stat st;
	if (stat(obj_path, &st) || st.st_size == 0)
		return mp_fail(d, HP_ERECOMPILE,
			       "recompiling '%s': '%s' exited 0 but wrote no object (a pass-plugin "
			       "option problem?)",
			       tu->source, tu->argv[0]);
	return 0;
}
