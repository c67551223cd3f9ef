#include "hp_patch_spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hp_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hp_spec_entry *)a)->name,
		      ((const struct hp_spec_entry *)b)->name);
}

static unsigned hp_spec_kind_of(const char *word)
{
	if (!strcmp(word, "keep"))
		return HP_SPEC_KEEP;
	if (!strcmp(word, "old-func"))
		return HP_SPEC_OLD_FUNC;
	if (!strcmp(word, "old-var"))
		return HP_SPEC_OLD_VAR;
	return HP_SPEC_NONE;
}

static int hp_spec_add(struct hp_patch_spec *spec, size_t *cap, const char *name, unsigned kind)
{
	if (spec->count == *cap) {
		size_t n = *cap ? *cap * 2 : 32;
		struct hp_spec_entry *p = realloc(spec->entries, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		spec->entries = p;
		*cap = n;
	}
	spec->entries[spec->count].name = strdup(name);
	if (!spec->entries[spec->count].name)
		return -ENOMEM;
	spec->entries[spec->count++].kinds = kind;
	return 0;
}

/* Split "directive NAME" (comments and blanks already stripped). */
static int hp_spec_line(struct hp_patch_spec *spec, size_t *cap, char *line)
{
	char *word = line, *name, *end;
	unsigned kind;

	name = word;
	while (*name && !isspace((unsigned char)*name))
		name++;
	if (!*name)
		return -EINVAL;
	*name++ = 0;
	while (isspace((unsigned char)*name))
		name++;
	if (!strcmp(word, "refusals")) { /* the rest of the line: a path */
		if (!*name || spec->refusals_path)
			return -EINVAL;
		spec->refusals_path = strdup(name);
		return spec->refusals_path ? 0 : -ENOMEM;
	}
	end = name;
	while (*end && !isspace((unsigned char)*end))
		end++;
	if (*end) {
		*end++ = 0;
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			return -EINVAL;
	}
	kind = hp_spec_kind_of(word);
	if (!kind || !*name)
		return -EINVAL;
	return hp_spec_add(spec, cap, name, kind);
}

/* Sort, then merge repeated names into one entry with all their kinds. */
static void hp_spec_merge(struct hp_patch_spec *spec)
{
	size_t i, out = 0;

	if (!spec->count)
		return;
	qsort(spec->entries, spec->count, sizeof(*spec->entries), hp_entry_cmp);
	for (i = 1; i < spec->count; i++) {
		if (!strcmp(spec->entries[i].name, spec->entries[out].name)) {
			spec->entries[out].kinds |= spec->entries[i].kinds;
			free(spec->entries[i].name);
		} else {
			spec->entries[++out] = spec->entries[i];
		}
	}
	spec->count = out + 1;
}

int hp_patch_spec_load(struct hp_patch_spec *spec, const char *path, char *msg, size_t msg_size)
{
	char line[4096];
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *f;
	int err = 0;

	memset(spec, 0, sizeof(*spec));
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		snprintf(msg, msg_size, "cannot read patch spec '%s': %s", path, strerror(errno));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *hash = strchr(line, '#');
		size_t len;

		lineno++;
		if (hash)
			*hash = 0;
		len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f)) {
			snprintf(msg, msg_size, "%s:%u: line too long", path, lineno);
			err = -EINVAL;
			break;
		}
		while (len && isspace((unsigned char)line[len - 1]))
			line[--len] = 0;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		err = hp_spec_line(spec, &cap, p);
		if (err) {
			snprintf(msg, msg_size, "%s:%u: %s", path, lineno,
				 err == -ENOMEM ? "out of memory"
						: "expected 'keep NAME', 'old-func NAME', "
						  "'old-var NAME' or 'refusals PATH' "
						  "(once)");
			break;
		}
	}
	if (!err && ferror(f)) {
		err = -EIO;
		snprintf(msg, msg_size, "cannot read patch spec '%s'", path);
	}
	fclose(f);
	if (err) {
		hp_patch_spec_release(spec);
		return err;
	}
	hp_spec_merge(spec);
	return 0;
}

unsigned hp_patch_spec_lookup(const struct hp_patch_spec *spec, const char *name)
{
	struct hp_spec_entry key = {(char *)name, 0};
	const struct hp_spec_entry *e;

	if (!spec->count)
		return HP_SPEC_NONE;
	e = bsearch(&key, spec->entries, spec->count, sizeof(key), hp_entry_cmp);
	return e ? e->kinds : HP_SPEC_NONE;
}

int hp_patch_spec_refuse(const struct hp_patch_spec *spec, const char *line)
{
	size_t len = strlen(line);
	char *buf;
	ssize_t n;
	int fd, err = 0;

	if (!spec->refusals_path)
		return 0;
	buf = malloc(len + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, line, len);
	buf[len] = '\n';
	/* O_APPEND and one write: lines of one compile never interleave */
	fd = open(spec->refusals_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
	} else {
		n = write(fd, buf, len + 1);
		if (n != (ssize_t)(len + 1))
			err = n < 0 ? -errno : -EIO;
		if (close(fd) && !err)
			err = -errno;
	}
	free(buf);
	return err;
}

void hp_patch_spec_release(struct hp_patch_spec *spec)
{
	size_t i;

	for (i = 0; i < spec->count; i++)
		free(spec->entries[i].name);
	free(spec->entries);
	free(spec->refusals_path);
	memset(spec, 0, sizeof(*spec));
}
