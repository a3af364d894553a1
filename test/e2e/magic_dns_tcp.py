#!/usr/bin/env python3
"""Several DNS queries on ONE TCP connection (RFC 7766 pipelining), for magic_dns_test.sh.

    magic_dns_tcp.py HOST PORT NAME[/TYPE] ...

Opens a single connection and sends every query before reading any answer. The first query is
written in three pieces (the 2-byte length prefix alone, then half the message, then the rest,
30 ms apart) to check that the server reassembles a message split across segments; the others go
out together in one write. Then it reads one answer per query, in whatever order they come, and
prints one line per query, in the order given:

    NAME TYPE RCODE ADDR,ADDR...      (the A / AAAA addresses of the answer section, or -)

Exits 1 if an answer is missing, has a wrong ID or does not echo its question; 0 otherwise.
Standard library only.
"""
import ipaddress
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "AAAA": 28, "MX": 15, "TXT": 16, "PTR": 12}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def build_query(qid, name, qtype):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD
    return header + encode_name(name) + struct.pack("!HH", qtype, 1)


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def read_name(msg, off):
    labels, hops = [], 0
    while True:
        n = msg[off]
        if n == 0:
            return ".".join(labels)
        if n & 0xC0 == 0xC0:
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 20:
                raise ValueError("pointer loop")
            continue
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def parse_answer(msg):
    qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    qname = read_name(msg, off)
    off = skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == 1 and rdlen == 4:
            addrs.append(str(ipaddress.IPv4Address(rdata)))
        elif rtype == 28 and rdlen == 16:
            addrs.append(str(ipaddress.IPv6Address(rdata)))
        off += rdlen
    return qid, flags, qd, qname, addrs


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    host, port = sys.argv[1], int(sys.argv[2])
    queries = []
    base = random.randrange(1, 60000)
    for i, arg in enumerate(sys.argv[3:]):
        name, _, qtype = arg.partition("/")
        qtype = qtype or "A"
        queries.append((base + i, name, qtype))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wire = [build_query(qid, name, TYPES[qtype]) for qid, name, qtype in queries]
    framed = [struct.pack("!H", len(w)) + w for w in wire]
    first = framed[0]
    half = 2 + (len(first) - 2) // 2
    for piece in (first[:2], first[2:half], first[half:]):
        sock.sendall(piece)
        time.sleep(0.03)
    sock.sendall(b"".join(framed[1:]))
    answers = {}
    try:
        for _ in queries:
            (length,) = struct.unpack("!H", recv_exact(sock, 2))
            msg = recv_exact(sock, length)
            qid, flags, qd, qname, addrs = parse_answer(msg)
            answers[qid] = (flags, qd, qname, addrs)
    except (OSError, ConnectionError, ValueError, IndexError, struct.error) as e:
        print(f"error after {len(answers)} of {len(queries)} answers: {e}")
        sys.exit(1)
    sock.close()
    ok = True
    for qid, name, qtype in queries:
        if qid not in answers:
            print(f"{name} {qtype} MISSING (no answer with id {qid})")
            ok = False
            continue
        flags, qd, qname, addrs = answers[qid]
        if not flags & 0x8000 or qd != 1 or qname.lower() != name.rstrip(".").lower():
            print(f"{name} {qtype} BAD (qr={flags >> 15} qdcount={qd} question={qname})")
            ok = False
            continue
        rcode = RCODES.get(flags & 0xF, str(flags & 0xF))
        print(f"{name} {qtype} {rcode} {','.join(addrs) or '-'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
