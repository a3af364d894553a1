#!/usr/bin/env python3
"""Hostile traffic for a DNS server on loopback, for magic_dns_flood_test.sh (stdlib only).

    magic_dns_flood.py HOST PORT [--duration 10] [--sources 200] [--rate 3000] [--hot-rate 1000]
                       [--slowloris 100] [--domain example.com]

For DURATION seconds, from SOURCES distinct addresses (127.0.1.1-100, 127.0.2.1-100, ... each
socket bound explicitly), at RATE datagrams per second in all, it sends a mix of:
  garbage     random bytes, 1-600 long
  tailnet     well-formed A/AAAA queries for tailnet nodes, random 0x20 case, some with EDNS
  nxdomain    random names in the tailnet domain
  outside     random names outside it (forwarded: *.flood.test, a few *.dead.test)
  ptr         reverse names of random 100.64.0.0/10 addresses
  maxname     a 255-byte (wire) name, the longest legal, and a 256-byte one, one too long
  loop        question names that are compression pointers: to themselves, a two-hop loop,
              a pointer forward, a pointer past the end of the message
  counts      QDCOUNT 0 or 2, records in the answer section, opcodes NOTIFY and UPDATE
  edns        OPT version 1, two OPT records, an OPT whose rdlength overruns the message
  short       headers cut short (0-11 bytes)
  response    well-formed responses (QR=1)
The last tenth of the sources ("silent" ones) send only the kinds a server must drop without a
word (short headers and responses): any reply they get is counted. One more source, 127.0.3.1,
sends well-formed tailnet queries at HOT_RATE per second (above a per-source rate limit).

It also opens SLOWLORIS TCP connections from 127.0.4.x that send part of a length prefix (or a
prefix and a few bytes of the message) and then sit idle until the end, and all along opens
short TCP connections from 127.0.5.x that send garbage (a zero length, a 65535 length followed
by a little, random bytes, a framed response) and close.

It prints what it sent and what came back, as `key=value` lines (tailnet_sent/_answered: the
mixed sources' tailnet queries and how many came back NOERROR, matched by source and ID;
hot_noerror: the hot source's NOERROR answers), and exits 0 (1 on a local error such as a
source address that cannot be bound).
"""
import argparse
import random
import select
import socket
import struct
import sys
import threading
import time
from collections import Counter

NODES = ["laptop", "server", "nas"]
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
rng = random.Random(1234)


def label(n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def mixcase(name):
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name)


def encode_name(name):
    out = b""
    for part in name.rstrip(".").split("."):
        out += bytes([len(part)]) + part.encode()
    return out + b"\0"


def header(qid=None, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    qid = rng.randrange(65536) if qid is None else qid
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt(version=0, size=1232, rdata=b""):
    return b"\0" + struct.pack("!HHIH", 41, size, version << 16, len(rdata)) + rdata


def query(name, qtype=1, edns=False, **kw):
    body = encode_name(name) + struct.pack("!HH", qtype, 1)
    if edns:
        return header(ar=1, **kw) + body + opt()
    return header(**kw) + body


class Packets:
    """Builders for each kind; each returns one datagram."""

    def __init__(self, domain):
        self.domain = domain
        # The longest legal name: 255 bytes on the wire, ending in the tailnet domain.
        self.max_name = self._name_of_wire_length(255)
        self.too_long = self._name_of_wire_length(256)

    def _name_of_wire_length(self, total):
        tail = len(encode_name(self.domain))  # includes the root byte
        labels, left = [], total - tail
        while left > 0:
            n = min(63, left - 1)
            if n < 1:  # a 1-byte remainder: shorten the previous label
                labels[-1] = labels[-1][:-1]
                n = 1
            labels.append("x" * n)
            left -= n + 1
        name = ".".join(labels + [self.domain])
        assert len(encode_name(name)) == total, (len(encode_name(name)), total)
        return name

    def garbage(self):
        return rng.randbytes(rng.randrange(1, 600))

    def tailnet(self):
        name = mixcase(f"{rng.choice(NODES)}.{self.domain}")
        return query(name, rng.choice([1, 28]), edns=rng.random() < 0.5)

    def nxdomain(self):
        return query(f"{label(rng.randrange(1, 30))}.{self.domain}", rng.choice([1, 28, 15]))

    def outside(self):
        zone = "dead.test" if rng.random() < 0.05 else "flood.test"
        return query(f"{label(12)}.{zone}", 1, edns=rng.random() < 0.5)

    def ptr(self):
        a, b, c = rng.randrange(64, 128), rng.randrange(256), rng.randrange(256)
        return query(f"{c}.{b}.{a}.100.in-addr.arpa", 12)

    def maxname(self):
        return query(self.max_name if rng.random() < 0.5 else self.too_long, 1)

    def loop(self):
        tail = struct.pack("!HH", 1, 1)
        choice = rng.randrange(4)
        if choice == 0:
            name = b"\xc0\x0c"                       # the name at 12 points at itself
        elif choice == 1:
            name = b"\x01a\xc0\x0c"                  # "a" then back to 12: a loop
        elif choice == 2:
            name = b"\xc0\x10\x01b\x00"              # forward, into its own bytes
        else:
            name = b"\x01a\xff\xff"                  # past the end of the message
        return header() + name + tail

    def counts(self):
        body = encode_name(f"laptop.{self.domain}") + struct.pack("!HH", 1, 1)
        choice = rng.randrange(4)
        if choice == 0:
            return header(qd=0)
        if choice == 1:
            return header(qd=2) + body + body
        if choice == 2:  # an answer record in a query
            rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([100, 100, 1, 1])
            return header(an=1) + body + rr
        return header(flags=rng.choice([4, 5]) << 11) + body  # NOTIFY / UPDATE

    def edns(self):
        body = encode_name(f"laptop.{self.domain}") + struct.pack("!HH", 1, 1)
        choice = rng.randrange(3)
        if choice == 0:
            return header(ar=1) + body + opt(version=1)
        if choice == 1:
            return header(ar=2) + body + opt() + opt()
        bad = b"\0" + struct.pack("!HHIH", 41, 4096, 0, 200) + b"\0\x0a\0\x08abcd"
        return header(ar=1) + body + bad

    def short(self):
        return header()[:rng.randrange(0, 12)]

    def response(self):
        name = f"{rng.choice(NODES)}.{self.domain}"
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([100, 100, 1, 1])
        return header(flags=0x8580, an=1) + encode_name(name) + struct.pack("!HH", 1, 1) + rr


MIXED = ["garbage", "tailnet", "nxdomain", "outside", "ptr", "maxname", "loop", "counts",
         "edns", "short", "response"]
MIXED_WEIGHTS = [15, 20, 10, 10, 5, 8, 8, 6, 6, 6, 6]
SILENT = ["short", "response"]


def sources(n, third):
    return [f"127.0.{third + i // 100}.{1 + i % 100}" for i in range(n)]


def udp_socket(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.setblocking(False)
    return s


class Flood:
    def __init__(self, args):
        self.args = args
        self.target = (args.host, args.port)
        self.pk = Packets(args.domain)
        self.stop = threading.Event()
        self.sent = Counter()
        self.replies = Counter()       # by class: mixed, silent, hot
        self.rcodes = Counter()
        self.tcp = Counter()
        self.tailnet_ids = set()       # (fd, id) of the mixed sources' tailnet queries
        self.tailnet_sent = 0
        self.tailnet_answered = 0      # of those, answered NOERROR
        n_silent = max(1, args.sources // 10)
        addrs = sources(args.sources, 1)
        self.mixed = [udp_socket(a) for a in addrs[:-n_silent]]
        self.silent = [udp_socket(a) for a in addrs[-n_silent:]]
        self.hot = udp_socket("127.0.3.1")
        self.cls = {s.fileno(): "mixed" for s in self.mixed}
        self.cls.update({s.fileno(): "silent" for s in self.silent})
        self.cls[self.hot.fileno()] = "hot"

    def send(self, sock, kind, track=False):
        try:
            packet = getattr(self.pk, kind)()
            if track:  # before sending: the answer can be read before sendto returns
                self.tailnet_ids.add((sock.fileno(), packet[0] << 8 | packet[1]))
            sock.sendto(packet, self.target)
            self.sent[kind] += 1
            if track:
                self.tailnet_sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            self.sent["send_error"] += 1

    def udp_sender(self):
        tick = 0.01
        per_tick = self.args.rate * tick
        hot_per_tick = self.args.hot_rate * tick
        owed = hot_owed = 0.0
        i = 0
        start = time.monotonic()
        while not self.stop.is_set():
            owed += per_tick
            hot_owed += hot_per_tick
            while owed >= 1:
                owed -= 1
                i += 1
                if i % 10 == 0:
                    self.send(self.silent[i % len(self.silent)], rng.choice(SILENT))
                    self.sent["silent"] += 1
                else:
                    kind = rng.choices(MIXED, MIXED_WEIGHTS)[0]
                    self.send(self.mixed[i % len(self.mixed)], kind, track=kind == "tailnet")
            while hot_owed >= 1:
                hot_owed -= 1
                self.send(self.hot, "tailnet")
                self.sent["hot"] += 1
            # Keep to the schedule: sleep until the next tick (never catch up in a burst).
            start += tick
            delay = start - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                start = time.monotonic()

    def udp_receiver(self):
        socks = self.mixed + self.silent + [self.hot]
        quiet_since = None  # after the stop: until nothing came for 1 s (late SERVFAILs too)
        while True:
            ready, _, _ = select.select(socks, [], [], 0.1)
            if self.stop.is_set():
                now = time.monotonic()
                if ready or quiet_since is None:
                    quiet_since = now
                elif now - quiet_since > 1:
                    return
            for s in ready:
                while True:
                    try:
                        data = s.recv(65535)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    cls = self.cls[s.fileno()]
                    self.replies[cls] += 1
                    if len(data) < 12:
                        continue
                    rcode = data[3] & 0xF
                    self.rcodes[RCODES.get(rcode, str(rcode))] += 1
                    if cls == "hot" and rcode == 0:
                        self.replies["hot_noerror"] += 1
                    key = (s.fileno(), data[0] << 8 | data[1])
                    if cls == "mixed" and rcode == 0 and key in self.tailnet_ids:
                        self.tailnet_ids.discard(key)
                        self.tailnet_answered += 1

    def slowloris(self):
        """Connects all at once (non-blocking), then sends each its few bytes."""
        pending = {}
        for i, addr in enumerate(sources(self.args.slowloris, 4)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((addr, 0))
            s.setblocking(False)
            s.connect_ex(self.target)
            pending[s] = i
        conns = []
        deadline = time.monotonic() + 3
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], list(pending), [], 0.1)
            for s in writable:
                i = pending.pop(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    self.tcp["slowloris_connect_failed"] += 1
                    s.close()
                    continue
                framed = struct.pack("!H", 512) + b"\x12\x34\x01"
                s.send(framed[:1] if i % 2 == 0 else framed)  # half a prefix, or a bit more
                conns.append(s)
                self.tcp["slowloris_open"] += 1
        for s in pending:
            self.tcp["slowloris_connect_failed"] += 1
            s.close()
        return conns

    def tcp_garbage(self):
        addrs = sources(50, 5)
        n = 0
        while not self.stop.is_set():
            n += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((addrs[n % len(addrs)], 0))
                s.settimeout(0.5)
                s.connect(self.target)
                choice = n % 4
                if choice == 0:
                    s.sendall(b"\0\0")                                   # a zero-length message
                elif choice == 1:
                    s.sendall(b"\xff\xff" + rng.randbytes(100))          # 65535, then 100 bytes
                elif choice == 2:
                    s.sendall(rng.randbytes(rng.randrange(1, 2000)))     # random bytes
                else:
                    m = self.pk.response()
                    s.sendall(struct.pack("!H", len(m)) + m)             # a framed response
                self.tcp["garbage_sent"] += 1
                try:
                    data = s.recv(4096)
                    self.tcp["garbage_closed_by_server" if not data else "garbage_replies"] += 1
                except socket.timeout:
                    self.tcp["garbage_left_open"] += 1
            except OSError:
                self.tcp["garbage_errors"] += 1
            finally:
                s.close()
            time.sleep(0.05)

    def run(self):
        conns = self.slowloris()
        threads = [threading.Thread(target=f, daemon=True)
                   for f in (self.udp_sender, self.udp_receiver, self.tcp_garbage)]
        start = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(self.args.duration)
        self.stop.set()
        elapsed = time.monotonic() - start  # the sending time (the receiver drains on)
        for t in threads:
            t.join(5)
        # Which slowloris connections did the server close (an idle timeout) by now?
        for s in conns:
            try:
                data = s.recv(4096)
                self.tcp["slowloris_closed_by_server" if not data else "slowloris_replied"] += 1
            except BlockingIOError:
                self.tcp["slowloris_still_open"] += 1
            except OSError:
                self.tcp["slowloris_closed_by_server"] += 1
            s.close()
        self.report(elapsed)

    def report(self, elapsed):
        udp_sent = sum(v for k, v in self.sent.items() if k in MIXED)
        print(f"duration={elapsed:.1f}s sources={len(self.mixed) + len(self.silent)}"
              f" silent_sources={len(self.silent)} hot_source=127.0.3.1")
        print(f"udp_sent={udp_sent} rate={udp_sent / elapsed:.0f}/s (every source, the hot one included)")
        print("udp_sent_by_kind=" + ",".join(f"{k}:{self.sent[k]}" for k in MIXED))
        print(f"udp_send_errors={self.sent['send_error']}")
        print(f"udp_replies={sum(self.replies.values())}")
        print("reply_rcodes=" + ",".join(f"{k}:{v}" for k, v in sorted(self.rcodes.items())))
        print(f"silent_sent={self.sent['silent']} silent_replies={self.replies['silent']}")
        print(f"tailnet_sent={self.tailnet_sent} tailnet_answered={self.tailnet_answered}"
              " (well-formed tailnet queries from the mixed sources; answered NOERROR)")
        print(f"hot_sent={self.sent['hot']} hot_replies={self.replies['hot']}"
              f" hot_noerror={self.replies['hot_noerror']}")
        for k in ("slowloris_open", "slowloris_connect_failed", "slowloris_still_open",
                  "slowloris_closed_by_server", "slowloris_replied", "garbage_sent",
                  "garbage_closed_by_server", "garbage_replies", "garbage_left_open",
                  "garbage_errors"):
            print(f"tcp_{k}={self.tcp[k]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--sources", type=int, default=200)
    p.add_argument("--rate", type=float, default=3000)
    p.add_argument("--hot-rate", type=float, default=1000)
    p.add_argument("--slowloris", type=int, default=100)
    p.add_argument("--domain", default="example.com")
    args = p.parse_args()
    try:
        flood = Flood(args)
    except OSError as e:
        print(f"cannot set up the sources: {e}", file=sys.stderr)
        return 1
    flood.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
