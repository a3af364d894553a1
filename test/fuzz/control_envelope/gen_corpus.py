#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_control_envelope into corpus/ (run from anywhere).

Hand-encoded protobuf (no generated Python needed): one Envelope of each body, nested messages,
a map entry, packed and unpacked repeated fields, an unknown field, truncations.
"""
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def msg(num, payload):
    return field(num, 2, payload)


def seed(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


key = bytes(range(32))
node = field(1, 0, 7) + msg(2, b"laptop") + msg(5, key) + msg(8, b"100.64.0.2/32") + \
    msg(10, b"203.0.113.7:41641") + field(11, 0, 900) + field(12, 0, 1)
register = field(1, 0, 1) + msg(2, key) + msg(4, b"pak-0123") + msg(5, msg(1, b"laptop") + msg(2, b"linux"))
seed("register_request.bin", msg(1, register))
seed("register_response.bin", msg(2, field(2, 0, 1) + msg(5, field(1, 0, 1) + msg(2, b"alice")) + msg(6, node)))
seed("map_request.bin", msg(3, field(1, 0, 1) + msg(2, key) + msg(4, b"10.0.0.2:41641") + field(7, 0, 1)))
region = field(1, 0, 900) + msg(2, b"lab") + msg(4, msg(1, b"1a") + field(2, 0, 900) + msg(3, b"127.0.0.1"))
derp_map = msg(1, field(1, 0, 900) + msg(2, region))  # map<int32, DerpRegion> entry
full = field(1, 0, 1) + field(3, 0, 1) + msg(4, node) + msg(5, node) + msg(5, node) + msg(9, derp_map)
seed("map_response_full.bin", msg(4, full))
patch = field(1, 0, 7) + field(4, 0, 0) + msg(3, msg(1, b"198.51.100.1:1"))
seed("map_response_delta.bin", msg(4, field(1, 0, 2) + msg(8, patch) + msg(7, varint(5) + varint(6))))
seed("keepalive.bin", msg(4, field(2, 0, 1)))
seed("error.bin", msg(5, msg(1, b"unauthorized") + msg(2, b"no such machine key")))
seed("unknown_field.bin", msg(4, full) + field(99, 0, 1))
seed("truncated.bin", msg(4, full)[:-5])
seed("empty.bin", b"")
