#!/usr/bin/env python3
"""Asks one DNS server for the A record of a name; prints the addresses, fails without one.

    dns-query.py SERVER NAME      (used by tools/node/node.sh to check the node's cluster DNS)
"""
import random
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
query_id = random.randrange(1 << 16)
question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
packet = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(2)
    s.sendto(packet, (server, 53))
    reply, _ = s.recvfrom(4096)
rid, flags, _, answers, _, _ = struct.unpack(">HHHHHH", reply[:12])
if rid != query_id or flags & 0x000F or answers == 0:
    sys.exit(f"{name}: no answer from {server} (rcode {flags & 0x000F})")
offset = 12 + len(question) + 4
found = []
for _ in range(answers):
    offset += 2 if reply[offset] & 0xC0 == 0xC0 else len(question)  # name: pointer or inline
    rtype, _, _, length = struct.unpack(">HHIH", reply[offset : offset + 10])
    offset += 10
    if rtype == 1 and length == 4:
        found.append(socket.inet_ntoa(reply[offset : offset + 4]))
    offset += length
if not found:
    sys.exit(f"{name}: no A record from {server}")
print(" ".join(found))
