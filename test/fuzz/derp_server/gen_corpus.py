#!/usr/bin/env python3
"""Writes the seed corpus of the derp_server fuzzer: scripts of (op, conn[, arg]) events.

ops: 0 open, 1 raw bytes (length byte + bytes), 2 valid ClientInfo for key k (bit 7: mesh key),
3 close, 4 take output (budget byte), 5 advance the clock (seconds byte).
"""
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(here, exist_ok=True)


def frame(t, payload):
    return bytes([t]) + struct.pack(">I", len(payload)) + payload


def raw(conn, payload):
    out = b""
    for i in range(0, len(payload), 255):
        chunk = payload[i:i + 255]
        out += bytes([1, conn, len(chunk)]) + chunk
    return out


def key_of(seed):  # a destination key that is not one of the fixed clients (fine for the core)
    return bytes([seed]) * 32


disco = b"TS\xf0\x9f\x92\xac" + b"d" * 56 + b"ping"
scripts = {
    "two_clients_relay": bytes([0, 1, 0, 2, 2, 1, 0, 2, 2, 2, 1]) +
    raw(1, frame(4, key_of(9) + b"hello")) + bytes([4, 2, 8, 4, 1, 8]),
    "frame_before_handshake": bytes([0, 1]) + raw(1, frame(4, key_of(1) + b"x")),
    "oversized_header": bytes([0, 1, 2, 1, 0]) + raw(1, b"\x04\x7f\xff\xff\xff"),
    "ping_keepalive": bytes([0, 3, 2, 3, 1]) + raw(3, frame(0x12, b"12345678") * 3) +
    bytes([4, 3, 1, 5, 3, 65, 4, 3, 1]),
    "mesh_watch_forward": bytes([0, 1, 2, 1, 0x80, 0, 2, 2, 2, 1]) + raw(1, frame(0x10, b"")) +
    raw(1, frame(0x0a, key_of(7) + key_of(7) + b"fwd")) + bytes([4, 1, 8]),
    "disco_to_nobody": bytes([0, 1, 2, 1, 0]) + raw(1, frame(4, key_of(5) + disco) * 5) +
    bytes([4, 1, 8]),
    "handshake_timeout": bytes([0, 4, 5, 4, 11, 4, 4, 1]),
    "note_preferred_close": bytes([0, 1, 2, 1, 1]) + raw(1, frame(7, b"\x01")) + bytes([3, 1]),
    "duplicates": bytes([0, 1, 2, 1, 2, 0, 2, 2, 2, 2, 0, 3, 2, 3, 1, 3, 2, 4, 3, 8]),
}
for name, data in scripts.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
