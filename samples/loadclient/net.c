/* net.c — loopback connection and line reader for hpload. */
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int net_connect(struct net_conn *c, unsigned short port, int timeout_ms)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int one = 1, err;

	/* Only ever loopback: hpload is a test tool, not a traffic generator. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->start = c->end = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		err = -errno;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

void net_close(struct net_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int net_send(struct net_conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

long net_read_line(struct net_conn *c, const char **line)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = memchr(c->buf + c->start + scanned, '\n', c->end - c->start - scanned);
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - (c->buf + c->start));

			*nl = '\0';
			*line = c->buf + c->start;
			c->start += len + 1;
			return (long)len;
		}
		scanned = c->end - c->start;
		if (c->start > 0) {
			memmove(c->buf, c->buf + c->start, scanned);
			c->start = 0;
			c->end = scanned;
		}
		if (c->end >= NET_MAX_LINE)
			return -EMSGSIZE;
		n = recv(c->fd, c->buf + c->end, NET_MAX_LINE - c->end, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		c->end += (size_t)n;
	}
}
