#include "report.h"
#include "hooks.h"
#include "hp_package.h"

#include <string.h>

static const char *const outcome_names[] = {"ok", "refused", "no-change"};

/* In P only for what it depends on (it inlines a function of P, or uses a
 * changed constant), its own code unchanged: the functions whose old code
 * a thread running inside them (a loop) keeps running after the apply. */
bool mp_func_dependency_only(const struct mp_func *f)
{
	return (f->why & (MP_WHY_INLINES | MP_WHY_CONST)) &&
	       !(f->why & (MP_WHY_SOURCE | MP_WHY_NEW | MP_WHY_MACHINE | MP_WHY_LINES));
}

void mp_func_reason(const struct mp_func *f, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__)
	if (f->beside_old)
		ADD("signature changed: a new function beside the old one, which keeps its code "
		    "for callers in flight");
	else if (f->why & MP_WHY_NEW)
		ADD("new function");
	else if (f->why & MP_WHY_INLINES && f->cause)
		ADD("inlines %s()", f->cause->name);
	else if (f->why & MP_WHY_SOURCE && f->nbodiless == 1)
		ADD("source changed, or that of an inlined function without a body of its own: "
		    "%s()",
		    f->bodiless);
	else if (f->why & MP_WHY_SOURCE && f->nbodiless)
		ADD("source changed, or that of one of the %u functions it inlines that have no "
		    "body of their own (%s() ...)",
		    f->nbodiless, f->bodiless);
	else if (f->why & MP_WHY_SOURCE)
		ADD("source changed");
	else if (f->why & MP_WHY_MACHINE)
		ADD("machine code changed");
	else if (f->why & MP_WHY_LINES)
		ADD("line numbers only (--line-changes)");
	else if (f->why & MP_WHY_CONST && f->cause_var)
		ADD("uses changed constant %s",
		    *f->cause_var->source_name ? f->cause_var->source_name : f->cause_var->name);
	if (f->why & MP_WHY_CLONE)
		ADD(", clone of %s()", *f->origin ? f->origin : f->norm ? f->norm : f->name);
	if (mp_func_dependency_only(f))
		ADD(" (dependency only)");
#undef ADD
	if (n >= size && size > 4)
		strcpy(buf + size - 4, "...");
}

void mp_report_explain(FILE *out, const struct mp_program *new)
{
	char why[512];
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		const struct mp_func *f = &new->funcs[i];
		if (!f->in_p)
			continue;
		uint32_t hook = f->why & MP_WHY_NEW ? mp_hook_kind_of(new, f) : 0;
		if (hook) {
			fprintf(out, "%s (%s): %s hook, run by the runtime\n", f->name,
				f->tu->source, hp_pkg_hook_kind_name(hook));
			continue;
		}
		mp_func_reason(f, why, sizeof(why));
		fprintf(out, "%s (%s): %s\n", f->name, f->tu->source, why);
	}
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		const struct mp_func *f = &new->funcs[i];
		if (f->with_origin)
			fprintf(out, "%s (%s): part of %s(), replaced with it\n", f->name,
				f->tu->source, f->with_origin->name);
		if (f->lines_only && !f->in_p)
			fprintf(out, "%s (%s): line numbers only, not replaced\n", f->name,
				f->tu->source);
	}
}

void mp_report_summary(FILE *out, const struct mp_diff_stats *st, const struct mp_findings *fi)
{
	for (size_t i = 0; i < fi->nwarnings; i++)
		fprintf(out, "mkpatch: warning: %s\n", fi->warnings[i]);
	fprintf(out, "mkpatch: %u function(s) to replace, %u new; %u unchanged\n", st->replaced,
		st->in_p - st->replaced, st->same);
	if (st->lines_only)
		fprintf(out,
			"mkpatch: %u function(s) differ only in the line numbers they pass to "
			"calls (__LINE__); not replaced (--line-changes replaces them)\n",
			st->lines_only);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_list(FILE *out, const char *key, char **items, size_t n)
{
	fprintf(out, "  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, items[i]);
	}
	fputs("],\n", out);
}

static void json_func(FILE *out, const struct mp_program *new, const struct mp_func *f, bool first)
{
	char why[512];
	mp_func_reason(f, why, sizeof(why));
	fputs(first ? "\n    {" : ",\n    {", out);
	fputs("\"name\": ", out);
	json_str(out, f->name);
	fputs(", \"tu\": ", out);
	json_str(out, f->tu->source);
	fprintf(out, ", \"status\": \"%s\", \"replaces\": %s, \"reason\": ",
		f->status == MP_NEW	  ? "new"
		: f->status == MP_CHANGED ? "changed"
					  : "same",
		f->twin && !f->beside_old ? "true" : "false");
	json_str(out, why);
	fprintf(out, ", \"dependency_only\": %s", mp_func_dependency_only(f) ? "true" : "false");
	if (f->cause) {
		fputs(", \"inlines\": ", out);
		json_str(out, f->cause->name);
	}
	if (f->why & MP_WHY_CONST && f->cause_var) {
		fputs(", \"constant\": ", out);
		json_str(out, f->cause_var->name);
	}
	/* All of the inlinees without a body of their own that the reason
	 * counts (the text names the first): a change to any of them shows
	 * only here, so a reader with the source diff can tell which. */
	if (f->why & MP_WHY_SOURCE && f->nbodiless) {
		fputs(", \"bodiless_inlinees\": [", out);
		for (uint32_t k = 0, n = 0; k < f->ninlined; k++)
			if (!mp_find_func(new, f->inlined[k], f->tu)) {
				fputs(n++ ? ", " : "", out);
				json_str(out, f->inlined[k]);
			}
		fputc(']', out);
	}
	fputc('}', out);
}

void mp_report_json(FILE *out, const struct mp_program *old, const struct mp_program *new,
		    const struct mp_diff_stats *st, const struct mp_findings *fi,
		    enum mp_outcome outcome, const char *package)
{
	fputs("{\n  \"old\": ", out);
	json_str(out, old->elf.path);
	fputs(",\n  \"new\": ", out);
	json_str(out, new->elf.path);
	fprintf(out, ",\n  \"outcome\": \"%s\",\n  \"package\": ", outcome_names[outcome]);
	if (package)
		json_str(out, package);
	else
		fputs("null", out);
	fprintf(out,
		",\n  \"stats\": {\"replaced\": %u, \"new\": %u, \"unchanged\": %u, "
		"\"changed\": %u, \"removed\": %u, \"changed_vars\": %u, \"new_vars\": %u},\n",
		st->replaced, st->in_p - st->replaced, st->same, st->changed, st->gone,
		st->vars_changed, st->vars_new);
	fputs("  \"refusals\": [", out);
	for (size_t i = 0; i < fi->nrefusals; i++) { /* the complete form */
		fputs(i ? ", " : "", out);
		json_str(out, fi->details && fi->details[i] ? fi->details[i] : fi->refusals[i]);
	}
	fputs("],\n", out);
	json_list(out, "warnings", fi->warnings, fi->nwarnings);
	fputs("  \"functions\": [", out);
	bool first = true;
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		if (new->funcs[i].in_p) {
			json_func(out, new, &new->funcs[i], first);
			first = false;
		}
	}
	fputs(first ? "],\n" : "\n  ],\n", out);
	fputs("  \"line_numbers_only\": [", out);
	first = true;
	for (uint32_t i = 0; i < new->nfuncs; i++) {
		const struct mp_func *f = &new->funcs[i];
		if (f->lines_only && !f->in_p) {
			fputs(first ? "" : ", ", out);
			json_str(out, f->name);
			first = false;
		}
	}
	fputs("]\n}\n", out);
}
