#include "hp_cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hp_read_all(const char *path, char **data, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		int err = fd < 0 ? -errno : -ENOMEM;

		if (fd >= 0)
			close(fd);
		free(buf);
		return err;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *p = realloc(buf, cap * 2);

			if (!p) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			close(fd);
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
}

int hp_cmdline_read(struct hp_cmdline *cl, pid_t pid)
{
	char path[64];
	size_t len = 0, i, argc = 0;
	char *p;
	int err;

	memset(cl, 0, sizeof(*cl));
	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cmdline");
	err = hp_read_all(path, &cl->buf, &len);
	if (err)
		return err;
	for (i = 0; i < len; i++)
		argc += !cl->buf[i];
	if (len && cl->buf[len - 1])
		argc++; /* last argument without its NUL (buf[len] is NUL) */
	cl->argv = calloc(argc + 1, sizeof(*cl->argv));
	if (!cl->argv) {
		hp_cmdline_release(cl);
		return -ENOMEM;
	}
	for (p = cl->buf, i = 0; i < argc; i++) {
		cl->argv[i] = p;
		p += strlen(p) + 1;
	}
	cl->argc = argc;
	return 0;
}

static const char *hp_basename(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

int hp_cmdline_is_cc1(const struct hp_cmdline *cl)
{
	const char *prog;

	if (cl->argc >= 2 && !strcmp(cl->argv[1], "-cc1"))
		return 1;
	/* GCC's compiler proper: cc1, cc1plus, ... */
	prog = cl->argc ? hp_basename(cl->argv[0]) : "";
	return !strncmp(prog, "cc1", 3);
}

static int hp_cmdline_names(const struct hp_cmdline *cl, const char *source)
{
	size_t i;

	for (i = 1; source && i < cl->argc; i++)
		if (!strcmp(cl->argv[i], source))
			return 1;
	return 0;
}

int hp_cmdline_driver(struct hp_cmdline *cl, const char *source)
{
	struct hp_cmdline parent;
	int err = hp_cmdline_read(cl, 0);

	if (err || !hp_cmdline_is_cc1(cl))
		return err;
	if (hp_cmdline_read(&parent, getppid()))
		return 0;
	if (!hp_cmdline_is_cc1(&parent) && hp_cmdline_names(&parent, source)) {
		hp_cmdline_release(cl);
		*cl = parent;
		return 0;
	}
	hp_cmdline_release(&parent);
	return 0;
}

const char *hp_cmdline_output(const struct hp_cmdline *cl)
{
	const char *out = NULL;
	int object = hp_cmdline_is_cc1(cl);
	size_t i;

	for (i = 1; i < cl->argc; i++) {
		const char *a = cl->argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "-S"))
			object = 1;
		else if (!strcmp(a, "-o") && i + 1 < cl->argc)
			out = cl->argv[++i];
		else if (!strncmp(a, "-o", 2) && a[2])
			out = a + 2;
	}
	return object ? out : NULL;
}

void hp_cmdline_release(struct hp_cmdline *cl)
{
	free(cl->argv);
	free(cl->buf);
	memset(cl, 0, sizeof(*cl));
}
