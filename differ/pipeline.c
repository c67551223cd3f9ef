/* The stages of pipeline.h: each calls the library functions that do the
 * work, with what they need taken from the one struct mp_run. */
#define _GNU_SOURCE
#include "pipeline.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"

void mp_run_init(struct mp_run *r, const struct mp_options *o)
{
	memset(r, 0, sizeof(*r));
	r->opts = o;
	mp_build_init(&r->build, &r->build_opts);
}

void mp_run_release(struct mp_run *r)
{
	mp_build_release(&r->build);
	mp_program_release(&r->new);
	mp_program_release(&r->old);
	mp_findings_release(&r->findings);
	free(r->compiler_log);
	free(r->name);
	r->compiler_log = r->name = NULL;
	explicit_bzero(r->secret_key, sizeof(r->secret_key));
}

/* The checks and comparisons report no message of their own: running out
 * of memory is their only error. */
static int analysis_result(struct mp_run *r, int err)
{
	if (err == -ENOMEM)
		mp_fail(&r->diag, ENOMEM, "out of memory");
	return err;
}

int mp_stage_open(struct mp_run *r)
{
	const struct mp_options *o = r->opts;
	if (o->sign_key) {
		char why[512];
		int err = hp_pkg_key_read_secret(o->sign_key, r->secret_key, why, sizeof(why));
		if (err)
			return mp_fail(&r->diag, -err, "--sign: %s", why);
	}
	int err = mp_program_open(&r->old, o->old_path, "OLD", &r->diag);
	return err ? err : mp_program_open(&r->new, o->new_path, "NEW", &r->diag);
}

int mp_stage_correlate(struct mp_run *r)
{
	return analysis_result(r, mp_correlate(&r->old, &r->new, &r->diag));
}

int mp_stage_compare(struct mp_run *r)
{
	mp_compare(&r->old, &r->new);
	if (r->opts->line_changes)
		mp_compare_include_lines(&r->new);
	return analysis_result(r, mp_compare_machine_code(&r->old, &r->new, &r->findings));
}

int mp_stage_include(struct mp_run *r)
{
	return analysis_result(r, mp_include(&r->old, &r->new, &r->stats));
}

int mp_stage_check(struct mp_run *r)
{
	int err = mp_check_metadata(&r->old, &r->new, &r->findings);
	if (!err)
		err = mp_check_types(&r->old, &r->new, &r->findings);
	if (err)
		return analysis_result(r, err);
	/* mp_include counted them; mp_check_types put them beside the old
	 * function instead: new functions, no replacement */
	for (uint32_t i = 0; i < r->new.nfuncs; i++)
		if (r->new.funcs[i].beside_old)
			r->stats.replaced--;
	r->outcome = r->findings.nrefusals    ? MP_OUT_REFUSED
		     : r->stats.replaced == 0 ? MP_OUT_NO_CHANGE
					      : MP_OUT_OK;
	return r->outcome == MP_OUT_REFUSED ? -HP_EREFUSED : 0;
}

/* The patch name: --name, else PKG's basename without its extension. */
static char *patch_name(const struct mp_options *o)
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

/* What the package's steps are told: mkpatch's options, the patch name
 * and the compiler log PKG.log. */
static int set_build_opts(struct mp_run *r)
{
	const struct mp_options *o = r->opts;
	r->name = patch_name(o);
	if (!r->name || asprintf(&r->compiler_log, "%s.log", o->output) < 0) {
		r->compiler_log = NULL;
		return mp_fail(&r->diag, ENOMEM, "out of memory");
	}
	r->build_opts = (struct mp_build_opts){
		.output = o->output,
		.name = r->name,
		.linker_script = o->linker_script,
		.keep_temps = o->keep_temps,
		.log = o->verbose ? stderr : NULL,
		.compiler_log = r->compiler_log,
		.secret_key = o->sign_key ? r->secret_key : NULL,
	};
	return 0;
}

int mp_stage_recompile(struct mp_run *r)
{
	int err = set_build_opts(r);
	if (!err)
		err = mp_build_recompile(&r->build, &r->old, &r->new, &r->findings, &r->diag);
	if (err == -HP_EREFUSED)
		r->outcome = MP_OUT_REFUSED;
	return err;
}

int mp_stage_link(struct mp_run *r)
{
	return mp_build_link(&r->build, &r->new, &r->diag);
}

int mp_stage_manifest(struct mp_run *r)
{
	return mp_build_manifest(&r->build, &r->old, &r->new, &r->diag);
}

int mp_stage_write(struct mp_run *r)
{
	int err = mp_build_write(&r->build, &r->diag);
	r->written = !err;
	return err;
}

void mp_run_remove_temps(struct mp_run *r)
{
	mp_build_release(&r->build);
}
