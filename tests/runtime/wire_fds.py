"""Raw clients of a hotpatch listener, for runtime.badinput (and its
request() for bench_wire.py).

wire_fds.py SOCKET COUNT NFDS: sends COUNT list requests, each carrying NFDS
descriptors (of /dev/null), and prints the status of the last reply. The
listener must close every descriptor it does not use.

wire_fds.py SOCKET idle COUNT SECONDS: opens COUNT connections that say
nothing, prints "open" once they are all connected, and holds them for
SECONDS (or until killed). Nobody else's request may wait for them.

wire_fds.py SOCKET rehearse ARG PKG|-: one rehearse request with ARG as its
cycle count and PKG's descriptor (none for -); prints the reply's status
and text."""
import os
import socket
import struct
import sys
import time

MAGIC, VERSION, OP_LIST, OP_REHEARSE = 0x43575048, 1, 3, 6


def request(path, op, arg=b"", fds=(), timeout=10):
    """One request on a connection of its own, carrying the descriptors fds;
    (status, text) of the reply, or None when none came whole."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    req = struct.pack("<IHHII256s", MAGIC, VERSION, op, 0, 0, arg)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds), *fds))] if fds else []
    s.sendmsg([req], anc)
    data = b""
    while len(data) < 16 or len(data) < 16 + struct.unpack("<IiII", data[:16])[2]:
        part = s.recv(65536)
        if not part:
            break
        data += part
    s.close()
    if len(data) < 16:
        return None
    status, length = struct.unpack("<IiII", data[:16])[1:3]
    return status, data[16 : 16 + length].decode(errors="replace")


def one(path, nfds):
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(nfds)]
    reply = request(path, OP_LIST, fds=fds)
    for fd in fds:
        os.close(fd)
    return reply[0] if reply else None


def idle(path, count, seconds):
    conns = []
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        conns.append(s)
    print("open", flush=True)
    time.sleep(seconds)


def rehearse(path, arg, pkg):
    fds = [os.open(pkg, os.O_RDONLY)] if pkg != "-" else []
    reply = request(path, OP_REHEARSE, arg.encode(), fds)
    print(f"{reply[0]} {reply[1].strip()}" if reply else "no reply")


def main():
    if sys.argv[2] == "rehearse":
        rehearse(sys.argv[1], sys.argv[3], sys.argv[4])
        return
    if sys.argv[2] == "idle":
        idle(sys.argv[1], int(sys.argv[3]), float(sys.argv[4]))
        return
    path, count, nfds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    status = None
    for _ in range(count):
        status = one(path, nfds)
    print(status)


if __name__ == "__main__":
    main()
