#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_http_tls_record into corpus/ (run from anywhere).

Byte 0 even: ciphertext mode (bit 1: the peer reads the server's flight; bits 2-7: piece size
sqrt, 0 = all at once); ClientHellos come from Python's ssl module over memory BIOs, so they are
real TLS 1.3 / 1.2 hellos (with SNI and ALPN), plus truncations and forgeries of them.
Byte 0 odd: after a real handshake, a script of [op][len][bytes] (see FuzzEstablished); bit 1
set (byte 0 = 3): the server has detached from OpenSSL (our own TLS 1.3 record layer).
"""
import os
import ssl

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def seed(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bytes(data))


def client_hello(minimum=None, maximum=None, alpn=("http/1.1",), sni="localhost"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


hello13 = client_hello()
hello12 = client_hello(maximum=ssl.TLSVersion.TLSv1_2)
seed("hello13.bin", b"\x00" + hello13)
seed("hello13_read.bin", b"\x02" + hello13)
seed("hello13_bytewise.bin", bytes([0x04 | 0x02]) + hello13)  # pieces of 1 byte
seed("hello13_pieces.bin", bytes([(7 << 2) | 0x02]) + hello13)  # pieces of 49 bytes
seed("hello12.bin", b"\x02" + hello12)
seed("hello_no_alpn_no_sni.bin", b"\x02" + client_hello(alpn=None, sni=None))
seed("hello_other_alpn.bin", b"\x02" + client_hello(alpn=("h2", "derp")))
seed("hello_truncated.bin", b"\x00" + hello13[: len(hello13) // 2])
seed("hello_twice.bin", b"\x02" + hello13 + hello13)
# The hello, then records the peer cannot have keys for: a CCS, app data, an alert.
seed("hello_then_records.bin", b"\x02" + hello13 + b"\x14\x03\x03\x00\x01\x01" +
     b"\x17\x03\x03\x00\x20" + bytes(32) + b"\x15\x03\x03\x00\x02\x02\x28")
seed("hello_fragmented_records.bin", b"\x02" + b"".join(
    b"\x16\x03\x01\x00" + bytes([len(hello13[5:][i:i + 40])]) + hello13[5:][i:i + 40]
    for i in range(0, len(hello13) - 5, 40)))
seed("record_huge_length.bin", b"\x00\x16\x03\x01\xff\xff" + bytes(64))
seed("sslv2_hello.bin", b"\x00\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + bytes(21 + 16))
seed("plain_http.bin", b"\x00GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
seed("alert.bin", b"\x00\x15\x03\x03\x00\x02\x02\x50")
seed("empty_records.bin", b"\x00" + b"\x16\x03\x01\x00\x00" * 8)

# Established mode.
def op(code, payload=b""):
    assert len(payload) < 256
    return bytes([code, len(payload)]) + payload


GET = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
seed("est_get.bin", b"\x01" + op(0, GET) + op(3))
seed("est_pipelined.bin", b"\x01" + op(0, GET * 3) + op(0, b"GET /stream HTTP/1.1\r\n\r\n") + op(3))
seed("est_post.bin", b"\x01" + op(0, b"POST /api/x HTTP/1.1\r\nContent-Length: 5\r\n\r\n") +
     op(0, b"hello") + op(7, bytes(10)) + op(3))
seed("est_forged_record.bin", b"\x01" + op(0, GET) + op(2, b"\x17\x03\x03\x00\x20" + bytes(32)))
seed("est_close_notify.bin", b"\x01" + op(0, GET) + op(5) + op(3))
seed("est_timeout.bin", b"\x01" + op(0, b"GET / HTTP/1.1\r\n") + op(4, bytes(50)) + op(3))
seed("est_garbage_then_eof.bin", b"\x01" + op(2, b"\x16\x03\x03\x00\x04\x01\x00\x00\x00") + op(6))
seed("est_bad_http.bin", b"\x01" + op(0, b"BREW /pot HTCPCP/1.0\r\n\r\n") + op(3))

# The same scripts against a server that detached from OpenSSL after the handshake.
for name in sorted(os.listdir(HERE)):
    if name.startswith("est_"):
        with open(os.path.join(HERE, name), "rb") as f:
            data = f.read()
        seed("detached_" + name[4:], b"\x03" + data[1:])
