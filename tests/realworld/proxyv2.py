#!/usr/bin/env python3
"""One connection to an nginx stream server that listens with proxy_protocol:
sends a PROXY protocol v2 header for 192.0.2.7:4321 -> 192.0.2.8:80 whose
NOOP TLV makes it SIZE bytes long (more than the 107 bytes a v1 header may
take), then prints what the server answers: its reply, "closed without a reply"
when it closes without a word, "timeout" when it neither answers nor closes
within 5 s.

usage: proxyv2.py PORT [SIZE]
"""
import socket
import struct
import sys

port = int(sys.argv[1])
size = int(sys.argv[2]) if len(sys.argv) > 2 else 220

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
addresses = socket.inet_aton("192.0.2.7") + socket.inet_aton("192.0.2.8") + struct.pack(">HH", 4321, 80)
fixed = len(SIGNATURE) + 4 + len(addresses)
# PP2_TYPE_NOOP (0x04): a TLV the receiver must skip, here only padding
padding = size - fixed - 3
if padding < 0:
    sys.exit("proxyv2.py: SIZE %d is below the %d bytes of a header with one TLV" % (size, fixed + 3))
tlv = struct.pack(">BH", 0x04, padding) + b"\0" * padding
header = SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", len(addresses) + len(tlv)) + addresses + tlv

with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
    sock.sendall(header)
    reply = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        print("timeout" + (": " + reply.decode("latin-1").strip() if reply else ""))
        sys.exit(0)
print(reply.decode("latin-1").strip() or "closed without a reply")
