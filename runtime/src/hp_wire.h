/* Control-socket messages between the hotpatch CLI and the runtime.
 * Both ends are built from this tree, but the CLI may meet an engine
 * running an older runtime, so requests carry a magic and a version.
 *
 * Request: struct hp_wire_req; an apply carries the package as one
 * SCM_RIGHTS file descriptor in the same message. Reply: struct
 * hp_wire_resp then len bytes of text (the result, or a one-line reason
 * when status is negative). A request flagged HP_WIRE_SESSION may be
 * followed by more on the same connection when the reply says so. */
#ifndef HP_WIRE_H
#define HP_WIRE_H

#include <stdint.h>

#define HP_WIRE_MAGIC 0x43575048u /* "HPWC" */
#define HP_WIRE_VERSION 1
#define HP_WIRE_ARG_MAX 256
#define HP_WIRE_TEXT_MAX (1u << 20)

enum hp_wire_op {
	HP_OP_APPLY = 1,
	HP_OP_REVERT = 2,
	HP_OP_LIST = 3,
	HP_OP_STATUS = 4,
	HP_OP_FAILPOINTS = 5, /* the failpoint names, one "apply NAME" line each */
	/* rehearse: up to arg ("N", decimal) apply+revert cycles of the
	 * package on the runtime's side, without a look at the stacks, for
	 * one slice of time, within the CPU budget in param; the reply is
	 * "rehearsed K, cpu N ns" (K >= 1; N: the thread's CPU time), or the
	 * failure as "cycle K: reason" (K counted from 1 in this request).
	 * Flagged HP_WIRE_SESSION for the next slice; older runtimes answer
	 * -HP_EPROTO "unknown control operation" and close. */
	HP_OP_REHEARSE = 6,
};

enum {
	HP_WIRE_JSON = 1u << 0,
	HP_WIRE_VERIFY_ONLY = 1u << 1, /* apply: every check, nothing changed */
	/* apply/revert: arg holds the patch (revert; "" for apply), a NUL,
	 * then the failpoint to fire ("NAME" or "NAME:N") */
	HP_WIRE_FAILPOINT = 1u << 2,
	/* apply: no look at the threads' stacks for old code afterwards
	 * (rehearse's thousands of cycles) */
	HP_WIRE_NO_SCAN = 1u << 3,
	/* keep the connection for further requests (rehearse's cycles): a
	 * runtime that does says so in the reply (HP_WIRE_RESP_OPEN) and
	 * waits for the next request; an older one closes as always */
	HP_WIRE_SESSION = 1u << 4,
	/* rehearse: at the lowest priority (SCHED_IDLE) instead of the
	 * program's */
	HP_WIRE_IDLE_PRIORITY = 1u << 5,
};

/* hp_wire_resp.flags */
enum {
	HP_WIRE_RESP_OPEN = 1u << 0, /* the connection takes another request */
};

struct hp_wire_req {
	uint32_t magic;
	uint16_t version;
	uint16_t op;	/* enum hp_wire_op */
	uint32_t flags; /* HP_WIRE_* */
	/* rehearse: the CPU the cycles may take, in hundredths of a percent
	 * of one CPU (0: no limit); 0 in every other request */
	uint32_t param;
	char arg[HP_WIRE_ARG_MAX]; /* revert: patch id or name; NUL-terminated */
};

struct hp_wire_resp {
	uint32_t magic;
	int32_t status; /* 0 or a negative error code */
	uint32_t len;	/* bytes of text that follow */
	uint32_t flags; /* HP_WIRE_RESP_* (0 from runtimes before sessions) */
};

#endif
