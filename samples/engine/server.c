/* server.c — listener plus a fixed pool of workers, one epoll set each.
 * The main thread accepts and hands each connection to one worker for its
 * whole life, so a connection's buffers are only ever touched by one thread
 * and need no lock; the store does its own locking. */
#define _GNU_SOURCE /* accept4 */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "protocol.h"
#include "stats.h"

/* Stop reading from a client whose replies pile up unread; resume once
 * they are written. Bounds memory per connection. */
#define OUT_HIGH_WATER (1u << 20)
#define EVENTS_PER_WAIT 64

struct conn {
	int fd;
	bool discarding; /* skipping the rest of an over-long line */
	bool want_out;	 /* EPOLLOUT is armed */
	size_t in_len;
	struct reply out;
	struct session session;
	struct conn *prev, *next; /* the owning worker's list */
	char in[HPKV_MAX_LINE + 2];
};

struct worker {
	pthread_t thread;
	int epfd;
	struct store *store;
	pthread_mutex_t lock; /* guards conns: the acceptor links, we unlink */
	struct conn *conns;
};

/* The eventfd that server_stop() writes: it stays readable from then on,
 * which wakes the acceptor and every worker (level-triggered). */
static int stop_fd = -1;

void server_stop(void)
{
	unsigned long long one = 1;
	ssize_t n;

	if (stop_fd >= 0)
		n = write(stop_fd, &one, sizeof(one));
	(void)n;
}

static void conn_unlink(struct worker *w, struct conn *c)
{
	pthread_mutex_lock(&w->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&w->lock);
}

static void conn_close(struct worker *w, struct conn *c)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conn_unlink(w, c);
	reply_release(&c->out);
	free(c);
	stats_conn_closed();
}

static void run_line(struct conn *c, char *line, size_t len)
{
	struct request req;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (proto_parse_line(line, len, &req) != 0) {
		reply_err(&c->out, hpkv_err_empty);
		return;
	}
	cmd_dispatch(&c->session, &req, &c->out);
}

/* Runs every complete line in the input buffer. Returns false when no
 * further input should be processed now (QUIT, or replies piling up). */
static bool run_lines(struct conn *c)
{
	size_t start = 0;
	bool go_on = true;

	while (go_on && start < c->in_len) {
		char *line = c->in + start;
		char *nl = memchr(line, '\n', c->in_len - start);

		if (!nl)
			break;
		if (c->discarding)
			c->discarding = false;
		else
			run_line(c, line, (size_t)(nl - line));
		start = (size_t)(nl - c->in) + 1;
		go_on = !c->session.quit && c->out.len < OUT_HIGH_WATER;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	/* A full buffer without a newline can never become a valid request:
	 * answer once and skip up to the next newline. */
	if (c->in_len >= HPKV_MAX_LINE + 1) {
		if (!c->discarding)
			reply_err(&c->out, hpkv_err_line_long);
		c->discarding = true;
		c->in_len = 0;
	}
	return go_on;
}

/* Returns -1 on a write error, else 0 (some output may remain). */
static int flush_out(struct conn *c)
{
	size_t done = 0;

	while (done < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + done, c->out.len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	if (done)
		reply_consume(&c->out, done);
	return 0;
}

/* Reads what is there; returns -1 when the peer is gone. */
static int fill_in(struct conn *c)
{
	for (;;) {
		size_t room = sizeof(c->in) - c->in_len;
		ssize_t n;

		if (room == 0)
			return 0;
		n = recv(c->fd, c->in + c->in_len, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->in_len += (size_t)n;
		if (!run_lines(c))
			return 0;
	}
}

static void conn_event(struct worker *w, struct conn *c, unsigned int events)
{
	bool gone = false;
	struct epoll_event ev;

	/* While replies are pending only EPOLLOUT is armed, so input waits in
	 * the socket until we caught up. */
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->session.quit &&
	    c->out.len < OUT_HIGH_WATER)
		gone = fill_in(c) != 0;
	/* Even when the peer has finished sending, answer what it sent. */
	if (flush_out(c) != 0)
		gone = true;
	if (!gone && c->out.failed)
		gone = true;
	if (!gone && c->session.quit && c->out.len == 0)
		gone = true;
	/* Input that was held back by the high-water mark runs now. */
	if (!gone && c->out.len == 0 && !c->session.quit && run_lines(c) && c->out.len)
		gone = flush_out(c) != 0;
	if (gone) {
		conn_close(w, c);
		return;
	}
	if (c->want_out != (c->out.len > 0)) {
		c->want_out = c->out.len > 0;
		ev.events = c->want_out ? EPOLLOUT : EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[EVENTS_PER_WAIT];

	for (;;) {
		int n = epoll_wait(w->epfd, events, EVENTS_PER_WAIT, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				goto stop; /* stop_fd: shutting down */
			conn_event(w, events[i].data.ptr, events[i].events);
		}
	}
stop:
	/* server_serve() closes what is left once every worker has stopped, so
	 * a connection handed over during shutdown is not missed. */
	return NULL;
}

int server_listen(unsigned short port, unsigned short *bound)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t len = sizeof(addr);
	int one = 1, fd, err;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*bound = ntohs(addr.sin_port);
	return fd;
}

static int hand_over(struct worker *w, int fd, unsigned long id)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1;

	if (!c)
		return -ENOMEM;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->session.store = w->store;
	c->session.conn_id = id;
	ev.data.ptr = c;
	/* Link before registering: once registered, the worker may close and
	 * free c at any moment. */
	pthread_mutex_lock(&w->lock);
	c->next = w->conns;
	if (c->next)
		c->next->prev = c;
	w->conns = c;
	pthread_mutex_unlock(&w->lock);
	stats_conn_opened();
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int err = -errno;

		conn_unlink(w, c);
		stats_conn_closed();
		free(c);
		return err;
	}
	return 0;
}

static void accept_loop(int lfd, struct worker *workers, int nworkers)
{
	struct pollfd pfd[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
	unsigned long next_id = 1;

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* EAGAIN, ECONNABORTED, EMFILE: try again later */
		if (hand_over(&workers[next_id % (unsigned long)nworkers], fd, next_id) != 0)
			close(fd);
		next_id++;
	}
}

static void worker_release(struct worker *w)
{
	while (w->conns)
		conn_close(w, w->conns);
	close(w->epfd);
	pthread_mutex_destroy(&w->lock);
}

static int worker_init(struct worker *w, struct store *st)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	memset(w, 0, sizeof(*w));
	w->store = st;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, stop_fd, &ev) != 0) {
		int err = -errno;

		worker_release(w);
		return err;
	}
	return 0;
}

int server_serve(const struct server_config *cfg, struct store *st, int lfd)
{
	struct worker *workers;
	int started = 0, err = 0;

	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0)
		return -errno;
	workers = calloc((size_t)cfg->threads, sizeof(*workers));
	if (!workers) {
		err = -ENOMEM;
		goto out_stop_fd;
	}
	for (; started < cfg->threads; started++) {
		err = worker_init(&workers[started], st);
		if (err)
			goto out_workers;
		err = -pthread_create(&workers[started].thread, NULL, worker_main,
				      &workers[started]);
		if (err) {
			worker_release(&workers[started]);
			goto out_workers;
		}
	}
	accept_loop(lfd, workers, cfg->threads);
out_workers:
	server_stop();
	for (int i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		worker_release(&workers[i]);
	}
	free(workers);
out_stop_fd:
	close(stop_fd);
	stop_fd = -1;
	return err;
}
