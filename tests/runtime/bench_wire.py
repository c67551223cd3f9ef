"""One apply and one revert at a time over a hotpatch control socket, for
bench-cli: what the CLI waits for once it has started, without the start.

bench_wire.py SOCKET PKG ROUNDS: ROUNDS apply+revert pairs, each request on
a connection of its own as the CLI makes it (the apply with the old-code
look, as `hotpatch apply` asks for it); prints the median and p90 wall
time of an apply and of a revert in milliseconds, the apply+revert cycles
per second, and fails on any reply that is not a success.

bench_wire.py --batch CLI PID PKG ROUNDS: the same pairs as lines to one
`CLI batch` process, each timed from writing its line to reading its
"ok": through the CLI, paying for one process start in all."""
import os
import statistics
import subprocess
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


def batch_op(cli, line):
    cli.stdin.write(line + "\n")
    cli.stdin.flush()
    for answer in cli.stdout:
        if answer == "ok\n":
            return
        if answer.startswith("error: "):
            sys.exit(f"bench_wire: '{line}' failed: {answer.strip()}")
    sys.exit(f"bench_wire: the batch ended before answering '{line}'")


def main():
    if sys.argv[1] == "--batch":
        cli_path, pid, pkg, rounds = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        cli = subprocess.Popen([cli_path, "batch"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        apply_op = lambda: batch_op(cli, f"apply {pid} {pkg}")
        revert_op = lambda: batch_op(cli, f"revert {pid}")
    else:
        path, pkg, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
        fd = os.open(pkg, os.O_RDONLY)
        cli = None
        apply_op = lambda: checked(path, OP_APPLY, [fd])
        revert_op = lambda: checked(path, OP_REVERT)
    applies, reverts = [], []
    start = time.perf_counter()
    for _ in range(rounds):
        t0 = time.perf_counter()
        apply_op()
        t1 = time.perf_counter()
        revert_op()
        t2 = time.perf_counter()
        applies.append(t1 - t0)
        reverts.append(t2 - t1)
    seconds = time.perf_counter() - start
    if cli:
        cli.stdin.close()
        if cli.wait() != 0:
            sys.exit(f"bench_wire: the batch exited {cli.returncode}")
    for name, xs in (("apply", applies), ("revert", reverts)):
        xs.sort()
        print(f"{name} {statistics.median(xs) * 1e3:.3f} {xs[len(xs) * 9 // 10] * 1e3:.3f}")
    print(f"cycles {rounds / seconds:.0f}")


if __name__ == "__main__":
    main()
