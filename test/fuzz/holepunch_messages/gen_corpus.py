#!/usr/bin/env python3
"""Writes the seed corpora of the holepunch_messages and holepunch_receive fuzz targets.

The layouts are those of libs/holepunch/include/meshvpn/holepunch/messages.h; MACs are keyed
BLAKE2s with a 16-byte output under the fuzzers' fixed key (bytes 0xA0..0xBF). Run from anywhere:
  python3 test/fuzz/holepunch_messages/gen_corpus.py
"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = bytes(0xA0 + i for i in range(32))


def header(t):
    return b"MVHP" + bytes([1, t, 0, 0])


def name(s):
    return bytes([len(s)]) + s.encode()


def ep4(a, port):
    return bytes([4]) + struct.pack(">H", port) + bytes(a)


def ep6(a16, port):
    return bytes([6]) + struct.pack(">H", port) + bytes(a16)


def cand(kind, ep):
    return bytes([kind]) + ep


def mac(b):
    return b + hashlib.blake2s(b, key=KEY, digest_size=16).digest()


PUB_A = bytes([1]) * 32
PUB_B = bytes([2]) * 32
TX = bytes(range(12))
CANDS = [cand(1, ep4([192, 168, 1, 2], 40000)), cand(2, ep4([203, 0, 113, 101], 40000)),
         cand(1, ep6([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1], 40000))]


def register(n="alice", p="bob", cands=CANDS, count=None):
    c = b"".join(cands)
    return (header(1) + struct.pack(">Q", 7) + PUB_A + bytes([0]) + name(n) + name(p) +
            bytes([len(cands) if count is None else count]) + c)


def peer_info(n="bob", cands=CANDS, nonce=7):
    return (header(3) + struct.pack(">Q", nonce) + PUB_B + bytes([1]) + name(n) +
            bytes([len(cands)]) + b"".join(cands))


VALID = {
    "register.bin": register(),
    "register_ack.bin": header(2) + struct.pack(">QH", 7, 30) + ep4([203, 0, 113, 101], 40000),
    "peer_info.bin": peer_info(),
    "register_error.bin": header(4) + struct.pack(">Q", 7) + bytes([1]),
    "ping.bin": mac(header(0x10) + PUB_B + TX),
    "pong.bin": mac(header(0x11) + PUB_B + TX + ep4([203, 0, 113, 101], 40000)),
    "pong_v6.bin": mac(header(0x11) + PUB_B + TX + ep6([0x20, 0x01] + [0] * 13 + [5], 1)),
    "message.bin": mac(header(0x12) + PUB_B + struct.pack(">QH", 1, 17) + b"Hello from Alice!"),
    "message_ack.bin": mac(header(0x13) + PUB_B + struct.pack(">Q", 1)),
}
BAD = {
    "bad_magic.bin": b"MVHQ" + VALID["ping.bin"][4:],
    "bad_version.bin": VALID["ping.bin"][:4] + bytes([2]) + VALID["ping.bin"][5:],
    "unknown_type.bin": header(0x7F) + bytes(60),
    "truncated_register.bin": register()[:-3],
    "trailing_byte.bin": VALID["register_ack.bin"] + b"\0",
    "bad_name.bin": register(n="Alice"),
    "bad_kind.bin": register(cands=[cand(9, ep4([1, 2, 3, 4], 5))]),
    "bad_family.bin": register(cands=[bytes([1, 5, 0, 1, 1, 2, 3, 4])]),
    "too_many_candidates.bin": register(count=13),
    "text_too_long.bin": mac(header(0x12) + PUB_B + struct.pack(">QH", 1, 1025) + b"x" * 10),
    "bad_mac.bin": VALID["ping.bin"][:-1] + bytes([VALID["ping.bin"][-1] ^ 1]),
    "stun_binding.bin": bytes([0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42]) + bytes(12),
}


def rec(op, payload=b""):
    return bytes([op, len(payload)]) + payload


def nomac(b):
    return b[:-16]


SCRIPTS = {
    # A genuine ping from the peer: answered, its source learned.
    "ping_sealed.bin": rec(1, nomac(VALID["ping.bin"])),
    # Our ping answered: direct; then time passes (keepalives), then the path dies.
    "pong_direct.bin": rec(4) + rec(5, bytes([60])) + rec(5, bytes([255])) + rec(5, bytes([255])),
    # Direct, then a message and its ack.
    "message.bin": rec(4) + rec(1, nomac(VALID["message.bin"])) +
    rec(1, nomac(VALID["message_ack.bin"])),
    # Nothing answers: every attempt, then the fallback.
    "fallback.bin": rec(5, bytes([50])) * 4,
    # The rendezvous server: a register, junk, a register for self.
    "server.bin": rec(2, register()) + rec(2, b"junk") + rec(2, register(n="bob", p="bob")) +
    rec(2, register(n="bob", p="alice")),
    # The rendezvous client: ack, then the peer's info (nonce 7), then junk.
    "client.bin": rec(3, VALID["register_ack.bin"]) + rec(3, peer_info()) + rec(3, b"x"),
    "raw_garbage.bin": rec(0, b"\xff" * 40) + rec(1, b"MVHP\x01\x10") + rec(0, VALID["pong.bin"]),
}


def write(directory, files):
    os.makedirs(directory, exist_ok=True)
    for n, b in files.items():
        with open(os.path.join(directory, n), "wb") as f:
            f.write(b)


write(os.path.join(HERE, "corpus"), {**VALID, **BAD})
write(os.path.join(HERE, "..", "holepunch_receive", "corpus"), SCRIPTS)
