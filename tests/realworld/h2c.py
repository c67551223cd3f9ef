#!/usr/bin/env python3
"""One HTTP/2 request over cleartext with prior knowledge (h2c): GET PATH
with both ':authority' and 'host' set to HOST, and prints "status=N" from
the response's HEADERS frame (or what went wrong). The header block is
HPACK literals without Huffman coding, so no HPACK library is needed; the
reply's ':status' is read from the static table index nginx uses for the
common codes, or from a literal.

usage: h2c.py PORT [HOST [PATH]]
"""
import socket
import struct
import sys

port = int(sys.argv[1])
host = (sys.argv[2] if len(sys.argv) > 2 else "localhost").encode()
path = (sys.argv[3] if len(sys.argv) > 3 else "/").encode()

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, HEADERS, GOAWAY, RST_STREAM = 0x4, 0x1, 0x7, 0x3
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
# HPACK static table entries for :status (RFC 7541, appendix A)
STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    # literal header field without indexing, new name (0x00), lengths < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def status_of(block):
    first = block[0]
    if first & 0x80:
        return STATIC_STATUS.get(first & 0x7F, "indexed %d" % (first & 0x7F))
    # a literal whose name is static index 8..14 (":status"): value follows
    i = 1
    length = block[i] & 0x7F
    huffman = block[i] & 0x80
    value = block[i + 1 : i + 1 + length]
    return value.decode() if not huffman else "huffman-coded " + value.hex()


block = (literal(b":method", b"GET") + literal(b":scheme", b"http") + literal(b":path", path) +
         literal(b":authority", host) + literal(b"host", host))
try:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_STREAM | END_HEADERS, 1, block))
        while True:
            head = read_exact(sock, 9)
            length = struct.unpack(">I", b"\0" + head[:3])[0]
            kind, flags, stream = head[3], head[4], struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
            payload = read_exact(sock, length)
            if kind == SETTINGS and not flags & ACK:
                sock.sendall(frame(SETTINGS, ACK, 0))
            elif kind == HEADERS and stream == 1:
                print("status=%s" % status_of(payload))
                break
            elif kind in (GOAWAY, RST_STREAM):
                print("closed: %s frame" % ("GOAWAY" if kind == GOAWAY else "RST_STREAM"))
                break
except (OSError, EOFError) as e:
    print("closed: %s" % (e or "end of stream"))
