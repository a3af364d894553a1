#!/usr/bin/env python3
"""Clients that lie to a DERP server, one at a time; each must be closed by the server.

    derp_liar.py HOST PORT

  early_frame     upgrades, then sends a SendPacket before any ClientInfo
  bad_box         a ClientInfo whose box is random bytes (it cannot open)
  oversized       a valid-looking frame header that declares 256 MiB
  no_client_info  upgrades, reads the greeting, then sends nothing (10 s handshake limit)
  slowloris       sends the HTTP upgrade request one byte a second (the header timeout)

Prints "LIAR name: closed after N.Ns" or "LIAR name: NOT closed"; exits 1 if any was not
closed within its limit. The certificate is not checked (a test lab).
"""
import os
import socket
import ssl
import struct
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
UPGRADE = (b"GET /derp HTTP/1.1\r\nHost: derp\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n")


def connect():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((HOST, PORT), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=HOST)


def frame(t, payload):
    return bytes([t]) + struct.pack(">I", len(payload)) + payload


def upgrade(s):
    s.sendall(UPGRADE)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed before the 101")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("no 101: " + head.split(b"\r\n")[0].decode(errors="replace"))
    while len(rest) < 5 + 40:
        rest += s.recv(4096)
    return rest  # starts with the ServerKey frame


def wait_closed(s, limit):
    """Seconds until the server closed the connection, or None after `limit`."""
    start = time.monotonic()
    s.settimeout(0.5)
    while time.monotonic() - start < limit:
        try:
            if not s.recv(65536):
                return time.monotonic() - start
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            return time.monotonic() - start
    return None


def early_frame():
    s = connect()
    upgrade(s)
    s.sendall(frame(4, bytes(32) + b"before the handshake"))
    return wait_closed(s, 5)


def bad_box():
    s = connect()
    upgrade(s)
    s.sendall(frame(2, os.urandom(32) + os.urandom(24) + os.urandom(60)))
    return wait_closed(s, 5)


def oversized():
    s = connect()
    upgrade(s)
    s.sendall(b"\x02" + struct.pack(">I", 256 << 20) + b"x" * 1000)
    return wait_closed(s, 5)


def no_client_info():
    s = connect()
    upgrade(s)
    return wait_closed(s, 15)


def slowloris():
    s = connect()
    s.settimeout(0.5)
    start = time.monotonic()
    for b in UPGRADE[:-4]:
        try:
            s.sendall(bytes([b]))
        except (ssl.SSLError, OSError):
            return time.monotonic() - start
        try:
            if not s.recv(4096):
                return time.monotonic() - start
        except socket.timeout:
            pass
        except (ssl.SSLError, OSError):
            return time.monotonic() - start
        time.sleep(0.5)
        if time.monotonic() - start > 20:
            return None
    return None


failed = 0
for name, fn in [("early_frame", early_frame), ("bad_box", bad_box), ("oversized", oversized),
                 ("no_client_info", no_client_info), ("slowloris", slowloris)]:
    try:
        took = fn()
    except Exception as e:  # the server refusing is fine; anything else is reported
        print(f"LIAR {name}: error {e}", flush=True)
        failed += 1
        continue
    if took is None:
        print(f"LIAR {name}: NOT closed", flush=True)
        failed += 1
    else:
        print(f"LIAR {name}: closed after {took:.1f}s", flush=True)
sys.exit(1 if failed else 0)
