#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_http_tls13_records into corpus/ (run from anywhere).

Byte 0: the cipher suite (0 AES-128-GCM, 1 AES-256-GCM, 2 ChaCha20-Poly1305); then a script of
[op][len][bytes] (see the fuzzer's header).
"""
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def op(code, payload=b""):
    assert len(payload) < 256
    return bytes([code, len(payload)]) + payload


def seed(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


DATA = op(0, b"\x17GET / HTTP/1.1\r\n\r\n")
READ = op(2, b"\xff" * 200)
for suite in range(3):
    seed(f"data_{suite}.bin", bytes([suite]) + DATA + READ + op(3, b"HTTP/1.1 200 OK\r\n\r\n"))
seed("keyupdate_requested.bin", b"\x00" + DATA + op(4, b"\x01") + DATA + READ + op(3, b"reply") + READ)
seed("keyupdate_not_requested.bin", b"\x02" + op(4, b"\x00") + DATA + READ)
seed("close_notify.bin", b"\x00" + DATA + op(0, b"\x15\x01\x00") + DATA + READ)
seed("fatal_alert.bin", b"\x01" + op(0, b"\x15\x02\x28") + READ)
seed("user_canceled.bin", b"\x00" + op(0, b"\x15\x01\x5a") + DATA + READ)
seed("handshake_not_keyupdate.bin", b"\x00" + op(0, b"\x16\x04\x00\x00\x00") + READ)
seed("two_keyupdates_one_record.bin", b"\x00" + op(0, b"\x16\x18\x00\x00\x01\x00\x18\x00\x00\x01\x01") + READ)
seed("unknown_type.bin", b"\x02" + op(0, b"\x63hello") + READ)
seed("only_padding.bin", b"\x00" + op(0, b"\x00\x00\x00\x00") + READ)
seed("padded_data.bin", b"\x00" + op(0, b"\x00data\x17\x00\x00") + READ)
seed("empty_data.bin", b"\x01" + op(0, b"\x17") + DATA + READ)
seed("ccs.bin", b"\x00" + op(1, b"\x14\x03\x03\x00\x01\x01") + DATA + READ)
seed("forged_header.bin", b"\x00" + op(1, b"\x17\x03\x03\x41\x01") + READ)
seed("truncated.bin", b"\x00" + op(1, b"\x17\x03\x03\x00") + READ)
seed("small_reads.bin", b"\x02" + DATA * 3 + op(2) * 20)
