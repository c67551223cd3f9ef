#!/usr/bin/env python3
"""Stores a SIZE-byte value over TCP, asks for it over UDP with the 8-byte
frame header (request id, sequence 0, total 1, reserved), and prints
"total=N" from the first reply datagram's header: the number of datagrams
the server says the reply takes (memcached splits it into frames of at most
1400 bytes, 8 of them header).

usage: mcudp.py PORT [SIZE]   (the server's TCP and UDP ports are PORT)
"""
import socket
import struct
import sys

port = int(sys.argv[1])
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
key = b"rwudp"

with socket.create_connection(("127.0.0.1", port), timeout=10) as tcp:
    tcp.sendall(b"set %s 0 0 %d\r\n" % (key, size) + b"u" * size + b"\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = tcp.recv(4096)
        if not chunk:
            break
        reply += chunk
    if reply != b"STORED\r\n":
        print("set: %r" % reply[:100])
        sys.exit(0)

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.settimeout(5)
request_id = 0x2F8A
udp.sendto(struct.pack(">HHHH", request_id, 0, 1, 0) + b"get %s\r\n" % key, ("127.0.0.1", port))
try:
    while True:
        data = udp.recv(65536)
        if len(data) < 8:
            continue
        rid, seq, total, _ = struct.unpack(">HHHH", data[:8])
        if rid == request_id:
            print("total=%d" % total)
            break
except socket.timeout:
    print("timeout: no UDP reply")
