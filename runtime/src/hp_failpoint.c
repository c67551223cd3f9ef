/* Failpoints: every fallible step of apply and revert has a name, and one
 * operation at a time may ask for exactly one of them to fail, so that a
 * test can show that each failure leaves the process as it was.
 *
 * A failpoint stands in front of its step: when it fires, the step is not
 * run and the operation takes the step's own failure path, with the error
 * the step would give. Armed only through the control socket (hotpatch
 * apply/revert --failpoint), for the one operation it came with; the
 * operation flag makes the state single-threaded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hp_internal.h"

static const struct {
	const char *name;
	int err; /* what the step's own failure returns */
} failpoints[HP_FP_COUNT] = {
	[HP_FP_APPLY_READ] = {"apply.read-package", -EIO},
	[HP_FP_APPLY_MANIFEST] = {"apply.read-manifest", -HP_EFORMAT},
	[HP_FP_APPLY_TRUST] = {"apply.trust", -HP_EUNTRUSTED},
	[HP_FP_APPLY_ALLOC] = {"apply.alloc", -ENOMEM},
	[HP_FP_APPLY_TARGET] = {"apply.find-target", -HP_ENOTARGET},
	[HP_FP_APPLY_VERIFY] = {"apply.verify", -HP_EMISMATCH},
	[HP_FP_APPLY_CHECK_CODE] = {"apply.check-code", -HP_EOUTSIDE},
	[HP_FP_APPLY_LOAD] = {"apply.load", -HP_ELOAD},
	[HP_FP_APPLY_SLOTS] = {"apply.fill-slots", -EACCES},
	[HP_FP_APPLY_PRE_HOOKS] = {"apply.pre-hooks", -HP_EHOOK},
	[HP_FP_APPLY_NEW_SITE] = {"apply.new-site", -ENOMEM},
	[HP_FP_APPLY_LAYER] = {"apply.reserve-layer", -ENOMEM},
	[HP_FP_APPLY_ROUTE] = {"apply.route", -ENOMEM},
	[HP_FP_APPLY_WRITABLE] = {"apply.make-writable", -EACCES},
	[HP_FP_REVERT_FIND] = {"revert.find", -HP_ENOPATCH},
	[HP_FP_REVERT_PRE_HOOKS] = {"revert.pre-hooks", -HP_EHOOK},
	[HP_FP_REVERT_ALLOC] = {"revert.alloc", -ENOMEM},
	[HP_FP_REVERT_ROUTE] = {"revert.route", -ENOMEM},
	[HP_FP_REVERT_WRITABLE] = {"revert.make-writable", -EACCES},
};

static enum hp_failpoint armed;
static unsigned countdown; /* hits to let pass before it fires */
static int fired;

size_t hp_fp_count(void)
{
	return HP_FP_COUNT - 1;
}

const char *hp_fp_name(size_t i)
{
	return i + 1 < HP_FP_COUNT ? failpoints[i + 1].name : NULL;
}

int hp_fp_arm(const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long nth = 1;

	if (colon) {
		char *end;

		nth = strtoul(colon + 1, &end, 10);
		if (*end || end == colon + 1 || nth == 0 || nth > 1000000) {
			hp_seterr(err, errlen,
				  "failpoint '%s': the hit after ':' must be 1..1000000", spec);
			return -EINVAL;
		}
	}
	for (int i = 1; i < HP_FP_COUNT; i++)
		if (strlen(failpoints[i].name) == len && !strncmp(failpoints[i].name, spec, len)) {
			armed = (enum hp_failpoint)i;
			countdown = (unsigned)nth - 1;
			fired = 0;
			return 0;
		}
	hp_seterr(err, errlen, "no failpoint '%.*s' (hotpatch failpoints PID lists them)", (int)len,
		  spec);
	return -ENOENT;
}

int hp_fp_disarm(void)
{
	int was = fired;

	armed = HP_FP_NONE;
	fired = 0;
	return was;
}

int hp_fp(enum hp_failpoint fp, char *err, size_t errlen)
{
	if (armed != fp || fp == HP_FP_NONE)
		return 0;
	if (countdown) {
		countdown--;
		return 0;
	}
	armed = HP_FP_NONE;
	fired = 1;
	hp_seterr(err, errlen, "failpoint %s: %s", failpoints[fp].name,
		  hp_strerror(failpoints[fp].err));
	return failpoints[fp].err;
}
