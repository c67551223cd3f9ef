/* mkpatch's pipeline, one call per stage, all sharing one struct mp_run:
 *
 *   open → correlate → compare → include → check
 *        → recompile → link → manifest → write   (the package, if any)
 *
 * Each stage returns 0 or a negative code with its message in r->diag;
 * -HP_EREFUSED means the outcome is MP_OUT_REFUSED (the reasons are in
 * r->findings) and the pipeline stops there with a report, not an error.
 * Nothing here prints: mkpatch.c reports. */
#ifndef MP_PIPELINE_H
#define MP_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "build.h"
#include "check.h"
#include "diag.h"
#include "diff.h"
#include "hp_package.h"
#include "model.h"
#include "options.h"
#include "report.h"

struct mp_run {
	const struct mp_options *opts;
	uint8_t secret_key[HP_PKG_SECRET_KEY_SIZE]; /* read from opts->sign_key */
	struct mp_program old, new;
	struct mp_diff_stats stats;
	struct mp_findings findings;
	struct mp_diag diag;
	enum mp_outcome outcome; /* set by check, and by recompile on a refusal */
	/* the package, built when the outcome is MP_OUT_OK without --dry-run */
	char *name;	    /* --name, else PKG's basename without extension */
	char *compiler_log; /* PKG.log */
	struct mp_build_opts build_opts;
	struct mp_build build;
	bool written; /* opts->output is the new package */
};

/* Sets r up for mp_run_release(); o must outlive r. */
void mp_run_init(struct mp_run *r, const struct mp_options *o);
/* Frees everything r holds (the temporary files included) and wipes the
 * secret key. */
void mp_run_release(struct mp_run *r);

/* Reads --sign's key first (a bad key should not wait for an analysis),
 * then OLD and NEW. Returns 0, the key reader's negative errno,
 * -HP_EMALFORMED, -HP_ENOMETA or a negative errno. */
int mp_stage_open(struct mp_run *r);
/* mp_correlate(): 0, -HP_EDIFFERENT or -ENOMEM. */
int mp_stage_correlate(struct mp_run *r);
/* S: mp_compare(), with --line-changes mp_compare_include_lines(), then
 * mp_compare_machine_code() (which may already refuse). 0 or -ENOMEM. */
int mp_stage_compare(struct mp_run *r);
/* P: mp_include(). 0 or -ENOMEM. */
int mp_stage_include(struct mp_run *r);
/* mp_check_metadata() and mp_check_types(), then the outcome: refused if
 * any stage refused something (-HP_EREFUSED), no change if P replaces
 * nothing, else ok (0). -ENOMEM when out of memory. */
int mp_stage_check(struct mp_run *r);

/* Recompiles P's TUs in patch mode (mp_build_recompile()): 0,
 * -HP_ERECOMPILE, -HP_EREFUSED (the plugin refused: outcome refused) or a
 * negative errno. The compilers' messages go to r->compiler_log. */
int mp_stage_recompile(struct mp_run *r);
/* Links the patch (mp_build_link()): 0, -HP_ERECOMPILE or -ENOMEM. */
int mp_stage_link(struct mp_run *r);
/* Makes the signed or unsigned manifest (mp_build_manifest()): 0,
 * -HP_ERECOMPILE, -HP_EMALFORMED or a negative errno. */
int mp_stage_manifest(struct mp_run *r);
/* Writes the package to -o (mp_build_write()) and sets r->written: 0 or a
 * negative errno. */
int mp_stage_write(struct mp_run *r);
/* After the package's stages: removes their temporary files (with
 * --keep-temps, says on -v's log where they are). */
void mp_run_remove_temps(struct mp_run *r);

#endif
