#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(char ***list, size_t *n, const char *fmt, va_list ap)
{
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	char **l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l) {
		free(msg);
		return -ENOMEM;
	}
	l[(*n)++] = msg;
	*list = l;
	return 0;
}

int mp_refuse(struct mp_findings *fi, const char *fmt, ...)
{
	char **d = realloc(fi->details, (fi->nrefusals + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	fi->details = d;
	d[fi->nrefusals] = NULL;
	va_list ap;
	va_start(ap, fmt);
	int err = add(&fi->refusals, &fi->nrefusals, fmt, ap);
	va_end(ap);
	return err;
}

int mp_refuse_detailed(struct mp_findings *fi, const char *detail, const char *fmt, ...)
{
	char *copy = strdup(detail);
	char **d = realloc(fi->details, (fi->nrefusals + 1) * sizeof(*d));
	if (!copy || !d) {
		free(copy);
		if (d)
			fi->details = d;
		return -ENOMEM;
	}
	fi->details = d;
	va_list ap;
	va_start(ap, fmt);
	int err = add(&fi->refusals, &fi->nrefusals, fmt, ap);
	va_end(ap);
	if (err)
		free(copy);
	else
		d[fi->nrefusals - 1] = copy;
	return err;
}

int mp_warn(struct mp_findings *fi, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = add(&fi->warnings, &fi->nwarnings, fmt, ap);
	va_end(ap);
	return err;
}

void mp_findings_release(struct mp_findings *fi)
{
	for (size_t i = 0; i < fi->nrefusals; i++) {
		free(fi->refusals[i]);
		free(fi->details[i]);
	}
	free(fi->details);
	fi->details = NULL;
	for (size_t i = 0; i < fi->nwarnings; i++)
		free(fi->warnings[i]);
	free(fi->refusals);
	free(fi->warnings);
	fi->refusals = fi->warnings = NULL;
	fi->nrefusals = fi->nwarnings = 0;
}

int mp_group_refusal(struct mp_refusal_groups *g, const char *culprit, const char *user,
		     const char *tu)
{
	struct mp_refusal_group *grp = NULL;
	for (size_t i = 0; i < g->n && !grp; i++)
		if (!strcmp(g->v[i].culprit, culprit))
			grp = &g->v[i];
	if (!grp) {
		struct mp_refusal_group *v = realloc(g->v, (g->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->v = v;
		grp = &v[g->n];
		*grp = (struct mp_refusal_group){strdup(culprit), NULL, 0};
		if (!grp->culprit)
			return -ENOMEM;
		g->n++;
	}
	char *u;
	if (asprintf(&u, "%s (%s)", user, tu) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < grp->nusers; i++) {
		if (!strcmp(grp->users[i], u)) {
			free(u);
			return 0;
		}
	}
	char **users = realloc(grp->users, (grp->nusers + 1) * sizeof(*users));
	if (!users) {
		free(u);
		return -ENOMEM;
	}
	users[grp->nusers++] = u;
	grp->users = users;
	return 0;
}

/* The users' names (without " (tu)"), the first max of them, then "and N
 * more"; then the TUs (each once). all: every user with its TU. */
static char *users_text(const struct mp_refusal_group *grp, size_t max)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	bool one_tu = true;
	const char *tu0 = strrchr(grp->users[0], '(');
	for (size_t i = 1; i < grp->nusers; i++)
		one_tu = one_tu && !strcmp(strrchr(grp->users[i], '('), tu0);
	size_t shown = grp->nusers <= max + 1 ? grp->nusers : max;
	for (size_t i = 0; i < shown; i++) {
		const char *u = grp->users[i];
		size_t len = one_tu ? (size_t)(strrchr(u, '(') - u - 1) : strlen(u);
		fprintf(f, "%s%.*s",
			i == 0		       ? ""
			: i + 1 == grp->nusers ? " and "
					       : ", ",
			(int)len, u);
	}
	if (shown < grp->nusers)
		fprintf(f, " and %zu more", grp->nusers - shown);
	if (one_tu)
		fprintf(f, " %s", tu0);
	if (fclose(f))
		return NULL;
	return buf;
}

int mp_flush_refusal_groups(struct mp_refusal_groups *g, struct mp_findings *fi, const char *why)
{
	int err = 0;
	for (size_t i = 0; !err && i < g->n; i++) {
		const struct mp_refusal_group *grp = &g->v[i];
		char *some = users_text(grp, 3), *all = users_text(grp, SIZE_MAX - 1),
		     *detail = NULL;
		if (!some || !all ||
		    asprintf(&detail, "%s; used by %s: %s", grp->culprit, all, why) < 0)
			err = -ENOMEM;
		else
			err = mp_refuse_detailed(fi, detail, "%s; used by %s: %s", grp->culprit,
						 some, why);
		free(some);
		free(all);
		free(detail);
	}
	return err;
}

void mp_refusal_groups_release(struct mp_refusal_groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		for (size_t k = 0; k < g->v[i].nusers; k++)
			free(g->v[i].users[k]);
		free(g->v[i].users);
		free(g->v[i].culprit);
	}
	free(g->v);
	g->v = NULL;
	g->n = 0;
}
