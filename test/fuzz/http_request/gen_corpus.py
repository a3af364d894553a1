#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_http_request into corpus/ (run from this folder).

Layout of an input: [4 config bytes][D as 2 bytes LE][D decision bytes][bytes the peer sends].
config[0]: limits (bits 0-1 max_buffered_input, 2-3 max_buffered_output, 4-5 max_header_bytes,
6-7 max_body_bytes; 3 = the library's default); config[1]: max_header_count - 1 (bit 7: a 64-byte
target limit); config[2]: header and body timeouts (s, low and high nibble); config[3]: idle and
send timeouts. Decisions: see Fuzz::Step and Fuzz::OnRequest in ../http_request_fuzzer.cc.
"""
import os

DEFAULTS = bytes([0xFF, 0x63, 0xAA, 0xAA])
SMALL = bytes([0x00, 0x08, 0x22, 0x22])

# Decision opcodes (Fuzz::Step) and handler choices (Fuzz::OnRequest).
FEED, DRAIN, ADVANCE, TIMER, WRITER, STREAM, EOF, SHUTDOWN = 0, 4, 6, 7, 8, 11, 12, 13
SEND, STREAMING, HOLD, DROP, UPGRADE, EMPTY_STREAM, STATUS = 0, 2, 3, 4, 5, 6, 7


def seed(name, stream, decisions=b"", config=DEFAULTS):
    if isinstance(stream, str):
        stream = stream.encode()
    data = config + len(decisions).to_bytes(2, "little") + bytes(decisions) + stream
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", name), "wb") as f:
        f.write(data)


GET = "GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\n" \
      "Accept: */*\r\nX-Spaced:   v  \r\nCookie: a=b; c=d\r\n\r\n"
seed("get_headers.bin", GET)
seed("get_split_bytes.bin", GET, bytes([FEED, 0] * 40 + [DRAIN, 0xFF]))
pipelined = "".join(f"GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n" for i in range(6))
seed("pipelined.bin", pipelined, bytes([FEED, 0xFF, HOLD, WRITER, 0, SEND, DRAIN, 3,
                                        WRITER, 4, STREAMING, WRITER, 2, WRITER, 4]))
seed("pipelined_no_reads.bin", pipelined * 20, config=bytes([0x00, 0x63, 0, 0]))
chunked = ("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5;name=value;x\r\nhello\r\n6;ext=\"quoted\"\r\n world\r\n0\r\n"
           "X-Trailer: t\r\nX-Other: u\r\n\r\n")
seed("chunked_post_trailers.bin", chunked)
seed("chunked_post_split.bin", chunked, bytes([FEED, 7, FEED, 20, FEED, 3, ADVANCE, 20, FEED, 60]))
expect = "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nabcde"
seed("expect_continue.bin", expect, bytes([FEED, 70, DRAIN, 0xFF, FEED, 5]))
seed("expect_continue_timeout.bin", expect[:-5], bytes([FEED, 0xFF, ADVANCE, 200, TIMER]))
upgrade = ("GET /derp HTTP/1.1\r\nHost: h\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n"
           "EARLY-BYTES\x00\x01\x02")
seed("upgrade.bin", upgrade, bytes([FEED, 0xFF, UPGRADE, STREAM, 1, FEED, 10, STREAM, 4, EOF]))
seed("upgrade_late.bin", upgrade, bytes([FEED, 0xFF, HOLD, WRITER, 6, STREAM, 0, DRAIN, 0xFF]))
seed("upgrade_refused.bin", upgrade.replace("EARLY-BYTES\x00\x01\x02", "GET /next HTTP/1.1\r\n\r\n"))
seed("http10.bin", "GET / HTTP/1.0\r\n\r\n")
seed("http10_keepalive_stream.bin",
     "GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /t HTTP/1.0\r\n\r\n",
     bytes([FEED, 0xFF, STREAMING, WRITER, 2, WRITER, 4]))
seed("head.bin", "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /g HTTP/1.1\r\nHost: h\r\n\r\n")
seed("malformed_line.bin", "GET / HTTP/1.1\r\nBad Header\r\n\r\nGET / HTTP/1.1\r\n\r\n")
seed("malformed_request_line.bin", "G\x01T /\x7f HTTP/9.9\r\n\r\n")
seed("malformed_bare_lf.bin", "GET / HTTP/1.1\nHost: h\n\n")
seed("malformed_chunk_size.bin",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
seed("content_length_conflict.bin",
     "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
seed("te_and_cl.bin",
     "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
seed("huge_header.bin", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "a" * 20000 + "\r\n\r\n")
seed("many_headers.bin", "GET / HTTP/1.1\r\n" + "".join(f"X-{i}: v\r\n" for i in range(120)) + "\r\n")
seed("long_target.bin", "GET /" + "p" * 9000 + " HTTP/1.1\r\n\r\n")
seed("small_limits.bin", chunked + GET, config=SMALL)
seed("slowloris.bin", "GET / HTTP/1.1\r\nHost: h\r\n",
     bytes([FEED, 10, ADVANCE, 30, FEED, 5, ADVANCE, 90, TIMER, DRAIN, 0xFF]))
seed("stream_backpressure.bin", "GET /events HTTP/1.1\r\nHost: h\r\n\r\n",
     bytes([FEED, 0xFF, STREAMING] + [WRITER, 0xFB] * 12 + [DRAIN, 2] + [WRITER, 0xFB] * 4 +
           [SHUTDOWN, WRITER, 4]), config=bytes([0xF3, 0x63, 0xAA, 0x55]))
seed("dropped_writer.bin", GET + GET, bytes([FEED, 0xFF, DROP, STREAMING, WRITER, 5]))
seed("status_no_body.bin", GET * 4, bytes([FEED, 0xFF, STATUS, STATUS | 8, STATUS | 16, STATUS | 40]))
seed("post_body.bin", "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
seed("connect.bin", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nxyz",
     bytes([FEED, 0xFF, UPGRADE]))
