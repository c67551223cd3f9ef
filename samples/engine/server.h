/* server.h — the listener and the fixed pool of worker threads. */
#ifndef HPKV_SERVER_H
#define HPKV_SERVER_H

struct store;

struct server_config {
	unsigned short port; /* 0: let the kernel choose */
	int threads;
};

/* Binds 127.0.0.1:port (0: the kernel chooses) and listens; returns the
 * descriptor and the bound port in *bound, or a negative errno. */
int server_listen(unsigned short port, unsigned short *bound);

/* Serves the connections accepted on lfd until server_stop() is called,
 * then closes every connection (not lfd) and returns 0. Several processes
 * may serve one lfd (hpkv --workers). Returns a negative errno if the
 * workers cannot start. */
int server_serve(const struct server_config *cfg, struct store *st, int lfd);

/* Asks server_serve() to return. Async-signal-safe. */
void server_stop(void);

#endif
