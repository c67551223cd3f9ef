/* net.h — one blocking loopback connection with a line reader. */
#ifndef HPLOAD_NET_H
#define HPLOAD_NET_H

#include <stddef.h>

/* Longest reply line we accept: "VALUE " plus a maximal value. */
#define NET_MAX_LINE (65536 + 256)

struct net_conn {
	int fd;
	size_t start, end; /* unread bytes are buf[start..end) */
	char buf[NET_MAX_LINE + 1];
};

/* Connects to 127.0.0.1:@port with @timeout_ms on every send/receive.
 * Returns 0 or a negative errno. */
int net_connect(struct net_conn *c, unsigned short port, int timeout_ms);
void net_close(struct net_conn *c);
/* Sends @len bytes (the caller includes the newline). 0 or -errno. */
int net_send(struct net_conn *c, const char *data, size_t len);
/* Reads one line; *@line points into the connection's buffer (valid until
 * the next call), NUL-terminated, without "\n". Returns its length, or a
 * negative errno (-ECONNRESET at end of stream, -EMSGSIZE if too long). */
long net_read_line(struct net_conn *c, const char **line);

#endif
