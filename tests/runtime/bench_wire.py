"""One apply and one revert at a time over a hotpatch control socket, for
bench-cli: what the CLI waits for once it has started, without the start.

bench_wire.py SOCKET PKG ROUNDS: ROUNDS apply+revert pairs, each request on
a connection of its own as the CLI makes it (the apply with the old-code
look, as `hotpatch apply` asks for it); prints the median and p90 wall
time of an apply and of a revert in milliseconds, and fails on any reply
that is not a success."""
import os
import statistics
import sys
import time

from wire_fds import request

OP_APPLY, OP_REVERT = 1, 2


def checked(path, op, fds=()):
    reply = request(path, op, fds=fds, timeout=60)
    if reply is None:
        sys.exit(f"bench_wire: no reply to op {op}")
    if reply[0] != 0:
        sys.exit(f"bench_wire: op {op} failed: {reply[1]}")


def main():
    path, pkg, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fd = os.open(pkg, os.O_RDONLY)
    applies, reverts = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        checked(path, OP_APPLY, [fd])
        t1 = time.perf_counter()
        checked(path, OP_REVERT)
        t2 = time.perf_counter()
        applies.append(t1 - t0)
        reverts.append(t2 - t1)
    for name, xs in (("apply", applies), ("revert", reverts)):
        xs.sort()
        print(f"{name} {statistics.median(xs) * 1e3:.3f} {xs[len(xs) * 9 // 10] * 1e3:.3f}")


if __name__ == "__main__":
    main()
