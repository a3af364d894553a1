#!/usr/bin/env python3
"""Builds the synthetic packets the kernel will not send through a TUN on request (an IPv6
routing header, a long extension-header chain). Written from RFC 8200 / RFC 8754 / RFC 768 with
an independent checksum, so the parser is not checked against itself.
    python3 test/tun/testdata/synthesize.py test/tun/testdata
Cross-check: tcpdump -vvv -r <outdir>/synthetic.pcap reports "[udp sum ok]" for the routed one.
"""
import ipaddress
import os
import struct
import sys

SRC = ipaddress.IPv6Address("fd77::1").packed
FINAL = ipaddress.IPv6Address("fd77::2").packed
WAYPOINT = ipaddress.IPv6Address("fd77::a").packed
HOPOPT, ROUTING, FRAGMENT, DSTOPTS, UDP = 0, 43, 44, 60, 17


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    pseudo = src + dst + struct.pack("!IxxxB", length, UDP)
    c = csum(pseudo + struct.pack("!HHHH", sport, dport, length, 0) + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def pad_options(next_header):  # 8-byte options header holding one PadN option
    return bytes([next_header, 0, 1, 4, 0, 0, 0, 0])


def ipv6(next_header, dst, payload):
    return struct.pack("!IHBB", 6 << 28, len(payload), next_header, 64) + SRC + dst + payload


def srh(next_header, segments, segments_left):  # RFC 8754 segment routing header
    body = b"".join(segments)
    return struct.pack("!BBBBBBH", next_header, len(body) // 8, 4, segments_left,
                       len(segments) - 1, 0, 0) + body


def main():
    outdir = sys.argv[1]
    packets = {}
    # IPv6 -> hop-by-hop -> SRH (next hop fd77::a, final fd77::2) -> destination options -> UDP.
    # The UDP checksum uses the final destination (RFC 8200 section 8.1).
    seg = udp(SRC, FINAL, 40000, 9999, b"routed")
    chain = pad_options(ROUTING) + srh(DSTOPTS, [FINAL, WAYPOINT], 1) + pad_options(UDP) + seg
    packets["v6_udp_routing_header"] = ipv6(HOPOPT, WAYPOINT, chain)
    # IPv6 -> hop-by-hop -> fragment (offset 0, more fragments) -> UDP header and 16 payload bytes
    # of a 40-byte datagram. The checksum covers the whole datagram, so it cannot be checked here.
    whole = udp(SRC, FINAL, 40001, 53, bytes(range(32)))
    frag = struct.pack("!BxHI", UDP, 0x0001, 0xCAFEF00D)
    packets["v6_udp_fragment_chain"] = ipv6(HOPOPT, FINAL, pad_options(FRAGMENT) + frag + whole[:24])
    with open(os.path.join(outdir, "synthetic.pcap"), "wb") as pcap:
        pcap.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for name, pkt in packets.items():
            with open(os.path.join(outdir, name + ".bin"), "wb") as f:
                f.write(pkt)
            pcap.write(struct.pack("<IIII", 0, 0, len(pkt), len(pkt)) + pkt)
            print(f"{name}.bin: {len(pkt)} bytes")


if __name__ == "__main__":
    main()
