#!/usr/bin/env python3
"""Seed corpus of the derp_client fuzzer. Byte 0 bit 0: a valid greeting and ServerInfo first;
byte 1: the piece size; then what the server sends."""
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(here, exist_ok=True)


def frame(t, payload):
    return bytes([t]) + struct.pack(">I", len(payload)) + payload


key = bytes(range(32))
scripts = {
    "recv_packet": frame(5, key + b"hello"),
    "peer_gone_present": frame(8, key + b"\x00") + frame(9, key + bytes(16) + b"\x01\xbb\x01"),
    "ping_health_restart": frame(0x12, b"12345678") + frame(0x14, b"trouble") +
    frame(0x15, struct.pack(">II", 1000, 60000)),
    "keepalive_unknown": frame(6, b"") + frame(0x7f, b"xyz"),
    "short_frames": frame(5, b"short") + frame(0x12, b"1234"),
    "oversized": b"\x05\x00\x10\x00\x01",
    "pong": frame(0x13, b"\x00" * 8),
}
for name, body in scripts.items():
    for handshake in (0, 1):
        with open(os.path.join(here, f"{name}_{handshake}"), "wb") as f:
            f.write(bytes([handshake, 17]) + body)
with open(os.path.join(here, "bad_greeting"), "wb") as f:
    f.write(bytes([0, 64]) + frame(1, b"DERX" + bytes(36)))
