"""One apply and one revert at a time over a hotpatch control socket, for
bench-cli: what the CLI waits for once it has started, without the start.

bench_wire.py SOCKET PKG ROUNDS: ROUNDS apply+revert pairs, each request on
a connection of its own as the CLI makes it (the apply with the old-code
look, as `hotpatch apply` asks for it); prints the median and p90 wall
time of an apply and of a revert in milliseconds, and fails on any reply
that is not a success."""
import os
import socket
import statistics
import struct
import sys
import time

MAGIC, VERSION, OP_APPLY, OP_REVERT = 0x43575048, 1, 1, 2


def request(path, op, fd=None):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    req = struct.pack("<IHHII256s", MAGIC, VERSION, op, 0, 0, b"")
    anc = [] if fd is None else [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))]
    s.sendmsg([req], anc)
    data = b""
    while True:
        part = s.recv(65536)
        if not part:
            break
        data += part
        if len(data) >= 16 and len(data) >= 16 + struct.unpack("<IiII", data[:16])[2]:
            break
    s.close()
    if len(data) < 16:
        sys.exit(f"bench_wire: no reply to op {op}")
    status, length = struct.unpack("<IiII", data[:16])[1:3]
    if status != 0:
        sys.exit(f"bench_wire: op {op} failed: {data[16:16 + length].decode(errors='replace')}")


def main():
    path, pkg, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fd = os.open(pkg, os.O_RDONLY)
    applies, reverts = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        request(path, OP_APPLY, fd)
        t1 = time.perf_counter()
        request(path, OP_REVERT)
        t2 = time.perf_counter()
        applies.append(t1 - t0)
        reverts.append(t2 - t1)
    for name, xs in (("apply", applies), ("revert", reverts)):
        xs.sort()
        print(f"{name} {statistics.median(xs) * 1e3:.3f} {xs[len(xs) * 9 // 10] * 1e3:.3f}")


if __name__ == "__main__":
    main()
