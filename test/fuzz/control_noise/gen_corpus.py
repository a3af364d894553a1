#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_control_noise into corpus/ (run from anywhere).

Byte 0 even: an initiation frame (forgeries: wrong type, short, wrong version, random body).
Byte 0 odd: a script of [op][len][bytes] after a real handshake (see the fuzzer's header).
"""
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def seed(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def op(code, payload=b""):
    assert len(payload) < 256
    return bytes([code, len(payload)]) + payload


seed("init_random.bin", b"\x00" + b"\x01\x00\x62\x00\x01" + bytes(range(96)))
seed("init_short.bin", b"\x00" + b"\x01\x00\x01\x00")
seed("init_version.bin", b"\x00" + b"\x01\x00\x62\x00\x07" + bytes(96))
seed("init_wrong_type.bin", b"\x00" + b"\x02\x00\x30" + bytes(48))
KEEPALIVE = b"\x22\x02\x10\x01"  # Envelope{map_response{keep_alive: true}}
ERROR = b"\x2a\x0e\x0a\x0cunauthorized"
seed("one_envelope.bin", b"\x01" + op(0, KEEPALIVE) + op(2, b"\xff"))
seed("bytewise.bin", b"\x01" + op(0, KEEPALIVE) + op(0, ERROR) + op(2))
seed("malformed_envelope.bin", b"\x01" + op(0, b"\xff\xff\xff") + op(2, b"\x10"))
seed("empty_envelope.bin", b"\x01" + op(0) + op(2, b"\x10"))
seed("error_frame.bin", b"\x01" + op(1, b"\x03\x00\x05hello") + op(2, b"\x10"))
seed("forged_record.bin", b"\x01" + op(1, b"\x04\x00\x14" + bytes(20)) + op(2, b"\x10"))
seed("huge_frame_header.bin", b"\x01" + op(1, b"\x04\xff\xff") + op(2))
seed("mixed.bin", b"\x01" + op(0, KEEPALIVE) + op(2, b"\x03") + op(0, ERROR) + op(2, b"\x40"))
