#!/usr/bin/env python3
# Writes the seed corpus of fuzz_http_response: flags byte, split-seed byte, then what a server
# sends (see http_response_fuzzer.cc). Flags and seeds are ASCII digits so the files stay readable:
# '0' plain GET, '1' HEAD, '2' Upgrade, '4' small limits; seed '0' one piece, others split.
import os

HERE = os.path.dirname(os.path.abspath(__file__))

CL = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n"
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
           b"7\r\n{\"a\":1}\r\n3;ext=x\r\n,\"b\r\n0\r\nX-Checksum: 1234\r\n\r\n")
SEEDS = {
    "content_length": b"00" + CL,
    "content_length_split": b"07" + CL,
    "chunked_trailers": b"00" + CHUNKED,
    "chunked_split": b"03" + CHUNKED,
    "keep_alive_pair": b"05" + CL + b"HTTP/1.1 204 No Content\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n",
    "close_delimited": b"00HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: one\n\ndata: two\n\n",
    "connection_close": b"00HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy",
    "http10": b"06HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end",
    "head": b"10HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "continue": b"01HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /n/1\r\nContent-Length: 2\r\n\r\nok",
    "upgrade_101": (b"20HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
                    b"Derp-Version: 2\r\n\r\n\x01\x00\x00\x00\x2cearly frame bytes after the head"),
    "upgrade_101_split": (b"29HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\n\r\n\x81\x05hello"),
    "upgrade_refused": b"20HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n",
    "unexpected_101": b"00HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
    "too_big_body_small_limits": b"40HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100,
    "big_head_small_limits": b"40HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 300 + b"\r\n\r\n",
    "many_fields_small_limits": b"41HTTP/1.1 200 OK\r\n" + b"".join(b"F%d: v\r\n" % i for i in range(12)) + b"\r\n",
    "bad_status_line": b"00HTTP/1.1 2OO OK\r\n\r\n",
    "not_http": b"00SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    "duplicate_length": b"00HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "bad_chunk_size": b"02HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
    "truncated_body": b"00HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part",
    "empty": b"00",
}

os.makedirs(os.path.join(HERE, "corpus"), exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(HERE, "corpus", name), "wb") as f:
        f.write(data)
