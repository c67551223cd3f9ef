/* commands.h — the command table and the dispatcher that runs one request. */
#ifndef HPKV_COMMANDS_H
#define HPKV_COMMANDS_H

#include <stdbool.h>

#include "protocol.h"

struct store;

/* What a command may need besides its arguments: per-connection state. */
struct session {
	struct store *store;
	unsigned long conn_id;
	bool quit; /* set by QUIT: close after the reply is written */
};

/* Runs one parsed request and appends exactly one reply line to @r. */
void cmd_dispatch(struct session *s, const struct request *req, struct reply *r);

#endif
