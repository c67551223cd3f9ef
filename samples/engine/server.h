/* server.h — the listener and the fixed pool of worker threads. */
#ifndef HPKV_SERVER_H
#define HPKV_SERVER_H

struct store;

struct server_config {
	unsigned short port; /* 0: let the kernel choose */
	int threads;
};

/* Binds 127.0.0.1:port, prints "port N" on stdout, serves until
 * server_stop() is called, then closes every connection and returns 0.
 * Returns a negative errno if the server cannot start. */
int server_run(const struct server_config *cfg, struct store *st);

/* Asks server_run() to return. Async-signal-safe. */
void server_stop(void);

#endif
