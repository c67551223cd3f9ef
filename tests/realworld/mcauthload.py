#!/usr/bin/env python3
"""Bounded memcached load for servers started with -Y (ASCII auth), which
memcslap cannot talk to: 4 connections each authenticate with
'set auth 0 0 N\\r\\nuser pass', then set and get their own keys until STOP
exists or SECONDS pass. A reply other than the expected one is a failure.

usage: mcauthload.py PORT USER PASS SECONDS STOP
Prints "load: N requests, F failed"; exits 1 when F > 0 or N == 0.
"""
import os
import socket
import sys
import threading
import time

port, user, password, seconds, stop = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
counts = {"requests": 0, "failed": 0}
lock = threading.Lock()


def reply(sock, want):
    data = b""
    while not data.endswith(b"\r\n") or (want.startswith(b"VALUE") and not data.endswith(b"END\r\n")):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.startswith(want)


def client(n):
    done = failed = 0
    deadline = time.time() + seconds
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        token = f"{user} {password}".encode()
        s.sendall(b"set auth 0 0 %d\r\n%s\r\n" % (len(token), token))
        if not reply(s, b"STORED"):
            failed += 1
        while time.time() < deadline and not os.path.exists(stop) and done < 1000000:
            key = b"load%d_%d" % (n, done % 500)
            s.sendall(b"set %s 0 0 5\r\nvalue\r\n" % key)
            failed += not reply(s, b"STORED")
            s.sendall(b"get %s\r\n" % key)
            failed += not reply(s, b"VALUE")
            done += 2
    except OSError:
        failed += 1
    with lock:
        counts["requests"] += done
        counts["failed"] += failed


threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"load: {counts['requests']} requests, {counts['failed']} failed")
sys.exit(0 if counts["failed"] == 0 and counts["requests"] > 0 else 1)
