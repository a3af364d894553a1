#!/usr/bin/env python3
"""Captures the real packets the tun tests and the ip_packet fuzz corpus use.

Run as root inside a throwaway network namespace:
    unshare -n python3 test/tun/testdata/capture.py <outdir>
It creates a TUN device with the plain Linux ioctl (not meshvpn's code, so the vectors are
independent of the parser they test), makes the kernel route a few kinds of traffic into it,
and writes every packet it reads as <outdir>/<scenario>_<n>.bin plus one capture.pcap
(LINKTYPE_RAW) that `tcpdump -vvv -r` can decode as a cross-check.
"""
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
NAME = "cap0"
V4_LOCAL, V4_PEER = "10.77.0.1", "10.77.0.2"
V6_LOCAL, V6_PEER = "fd77::1", "fd77::2"


def open_tun():
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", NAME.encode(), IFF_TUN | IFF_NO_PI))
    for cmd in (["ip", "link", "set", NAME, "mtu", "1420", "up"],
                ["ip", "addr", "add", V4_LOCAL + "/24", "dev", NAME],
                ["ip", "-6", "addr", "add", V6_LOCAL + "/64", "dev", NAME, "nodad"]):
        subprocess.run(cmd, check=True)
    return fd


def drain(fd, seconds):
    packets, deadline = [], time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
        if ready:
            packets.append(os.read(fd, 65535))
    return packets


def dns_query(qtype):
    header = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)  # id, RD, one question
    name = b"".join(bytes([len(p)]) + p for p in (b"example", b"com")) + b"\0"
    return header + name + struct.pack("!HH", qtype, 1)


def tcp_connect(family, addr, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((addr, port))
    except BlockingIOError:
        pass
    return s  # kept open so the kernel does not send a RST before we read


def udp_send(family, addr, port, payload, setup=None):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if setup:
        setup(s)
    s.sendto(payload, (addr, port))
    s.close()


def v6_options(s):
    # A hop-by-hop and a destination options header, each 8 bytes of PadN (the kernel fills in
    # the next-header byte).
    pad = bytes([0, 0, 1, 4, 0, 0, 0, 0])
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, pad)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, pad)


SCENARIOS = [
    ("v4_icmp_echo", lambda: subprocess.run(["ping", "-c1", "-W1", V4_PEER], capture_output=True)),
    ("v6_icmp_echo", lambda: subprocess.run(["ping", "-6", "-c1", "-W1", V6_PEER],
                                             capture_output=True)),
    ("v4_icmp_record_route", lambda: subprocess.run(["ping", "-R", "-c1", "-W1", V4_PEER],
                                                     capture_output=True)),
    ("v4_tcp_syn", lambda: tcp_connect(socket.AF_INET, V4_PEER, 80)),
    ("v6_tcp_syn", lambda: tcp_connect(socket.AF_INET6, V6_PEER, 443)),
    ("v4_udp_dns", lambda: udp_send(socket.AF_INET, V4_PEER, 53, dns_query(1))),
    ("v6_udp_dns", lambda: udp_send(socket.AF_INET6, V6_PEER, 53, dns_query(28))),
    ("v4_udp_nocheck", lambda: udp_send(socket.AF_INET, V4_PEER, 9999, b"no checksum",
                                         lambda s: s.setsockopt(socket.SOL_SOCKET, 11, 1))),
    ("v6_udp_ext_headers", lambda: udp_send(socket.AF_INET6, V6_PEER, 9999, b"with options",
                                             v6_options)),
    ("v4_icmp_fragmented", lambda: subprocess.run(["ping", "-c1", "-W1", "-s", "2000", V4_PEER],
                                                   capture_output=True)),
    ("v6_icmp_fragmented", lambda: subprocess.run(["ping", "-6", "-c1", "-W1", "-s", "2000",
                                                    V6_PEER], capture_output=True)),
]


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    fd = open_tun()
    drain(fd, 0.5)  # whatever the kernel sends when the link comes up (MLD reports)
    keep = []
    with open(os.path.join(outdir, "capture.pcap"), "wb") as pcap:
        pcap.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for name, action in SCENARIOS:
            keep.append(action())
            for i, pkt in enumerate(drain(fd, 1.5)):
                path = os.path.join(outdir, f"{name}_{i}.bin")
                with open(path, "wb") as f:
                    f.write(pkt)
                pcap.write(struct.pack("<IIII", 0, 0, len(pkt), len(pkt)) + pkt)
                print(f"{path}: {len(pkt)} bytes")


if __name__ == "__main__":
    main()
