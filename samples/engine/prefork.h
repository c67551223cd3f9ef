/* prefork.h — hpkv --workers N: worker processes on one listening socket. */
#ifndef HPKV_PREFORK_H
#define HPKV_PREFORK_H

struct server_config;

/* Called in each worker process: serves the connections accepted on lfd
 * until SIGTERM or SIGINT, returns the process's exit status. */
typedef int (*prefork_serve_fn)(const struct server_config *cfg, int lfd);

/* Listens on 127.0.0.1:cfg->port, prints "port N", forks workers
 * processes that each run serve on the shared socket, and restarts one
 * that dies (at most PREFORK_MAX_RESTARTS times). SIGTERM or SIGINT stop
 * every worker; returns 0 once they are gone, 1 if it cannot start or
 * the workers keep dying. */
int prefork_run(const struct server_config *cfg, int workers, prefork_serve_fn serve);

#define PREFORK_MAX_RESTARTS 100

#endif
