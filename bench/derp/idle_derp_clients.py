#!/usr/bin/env python3
"""Opens COUNT DERP connections (TLS, HTTP upgrade, the DERP handshake) and holds them idle.

    idle_derp_clients.py PORT COUNT [--hosts 127.0.0.1,127.0.0.2] [--parallel N] [--timeout S]

Each connection: TCP connect to one of --hosts (round robin: more destination addresses give
more 4-tuples than one address's ephemeral ports), TLS handshake (the certificate is not
checked: a benchmark on loopback), "GET /derp" with "Upgrade: DERP", the 101 and the server's
greeting (ServerKey frame), a ClientInfo sealed with NaCl box (libsodium through ctypes: the
client's own fresh key pair, the JSON Tailscale's client sends), then the ServerInfo frame. After
that the connection is idle: it only answers nothing and reads the server's keepalives.

Prints progress lines to stderr and "ready ESTABLISHED FAILED" on stdout once every
connection is established or failed, then sleeps until killed (run.sh reads the server's RSS
meanwhile). At most --parallel connections are in their handshake at once.
"""
import argparse
import ctypes
import ctypes.util
import json
import resource
import selectors
import socket
import ssl
import struct
import sys
import time

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if sodium.sodium_init() < 0:
    sys.exit("libsodium did not initialise")

MAGIC = b"DERP\xf0\x9f\x94\x91"
CLIENT_INFO = json.dumps({"version": 2, "CanAckPings": True}, separators=(",", ":")).encode()


def keypair():
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(32)
    sodium.crypto_box_keypair(pk, sk)
    return pk.raw, sk.raw


def client_info_frame(server_pub):
    pk, sk = keypair()
    nonce = ctypes.create_string_buffer(24)
    sodium.randombytes_buf(nonce, 24)
    out = ctypes.create_string_buffer(len(CLIENT_INFO) + 16)
    if sodium.crypto_box_easy(out, CLIENT_INFO, ctypes.c_ulonglong(len(CLIENT_INFO)), nonce,
                              server_pub, sk) != 0:
        raise RuntimeError("crypto_box_easy failed")
    payload = pk + nonce.raw + out.raw
    return bytes([2]) + struct.pack(">I", len(payload)) + payload


def frames(buf):
    """Complete frames at the start of buf: list of (type, payload), bytes used."""
    out, at = [], 0
    while len(buf) - at >= 5:
        t = buf[at]
        n = struct.unpack(">I", buf[at + 1:at + 5])[0]
        if len(buf) - at - 5 < n:
            break
        out.append((t, buf[at + 5:at + 5 + n]))
        at += 5 + n
    return out, at


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--hosts", default="127.0.0.1")
    ap.add_argument("--parallel", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    hosts = args.hosts.split(",")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])

    sel = selectors.DefaultSelector()
    idle = []
    failed = 0
    started = 0
    in_progress = 0
    deadline = time.monotonic() + args.timeout
    last_report = time.monotonic()

    def fail(conn):
        nonlocal failed, in_progress
        failed += 1
        in_progress -= 1
        try:
            sel.unregister(conn["sock"])
        except (KeyError, ValueError):
            pass
        conn["sock"].close()

    def start_one():
        nonlocal started, in_progress, failed
        host = hosts[started % len(hosts)]
        started += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((host, args.port))
        if err not in (0, 115):  # EINPROGRESS
            failed += 1
            s.close()
            return
        in_progress += 1
        conn = {"state": "connect", "sock": s, "buf": b"", "host": host}
        sel.register(s, selectors.EVENT_WRITE, conn)

    def step(conn):
        s = conn["sock"]
        state = conn["state"]
        if state == "connect":
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                return fail(conn)
            conn["tls"] = ctx.wrap_socket(s, server_hostname=conn["host"],
                                          do_handshake_on_connect=False)
            conn["sock"] = conn["tls"]
            sel.unregister(s)
            sel.register(conn["tls"], selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
            conn["state"] = "tls"
            state = "tls"
        tls = conn["tls"]
        if state == "tls":
            try:
                tls.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except (ssl.SSLError, OSError):
                return fail(conn)
            tls.sendall(b"GET /derp HTTP/1.1\r\nHost: derp\r\nUpgrade: DERP\r\n"
                        b"Connection: Upgrade\r\n\r\n")
            conn["state"] = "upgrade"
            sel.modify(tls, selectors.EVENT_READ, conn)
            return
        try:
            data = tls.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except (ssl.SSLError, OSError):
            return fail(conn)
        if not data:
            return fail(conn)
        conn["buf"] += data
        if state == "upgrade":
            end = conn["buf"].find(b"\r\n\r\n")
            if end < 0:
                return
            if not conn["buf"].startswith(b"HTTP/1.1 101"):
                return fail(conn)
            conn["buf"] = conn["buf"][end + 4:]
            conn["state"] = state = "greeting"
        got, used = frames(conn["buf"])
        conn["buf"] = conn["buf"][used:]
        for t, payload in got:
            if conn["state"] == "greeting":
                if t != 1 or not payload.startswith(MAGIC):
                    return fail(conn)
                tls.sendall(client_info_frame(payload[8:40]))
                conn["state"] = "server_info"
            elif conn["state"] == "server_info" and t == 3:
                nonlocal_done(conn)
                return

    def nonlocal_done(conn):
        nonlocal in_progress
        in_progress -= 1
        conn["state"] = "idle"
        conn["buf"] = b""
        idle.append(conn)  # stays registered: keepalives are read and dropped

    while len(idle) + failed < args.count:
        while started < args.count and in_progress < args.parallel:
            start_one()
        for key, _ in sel.select(timeout=1.0):
            conn = key.data
            if conn["state"] == "idle":
                try:
                    if not conn["tls"].recv(65536):
                        conn["state"] = "closed"
                        sel.unregister(conn["tls"])
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
                except (ssl.SSLError, OSError):
                    conn["state"] = "closed"
                    sel.unregister(conn["tls"])
                continue
            step(conn)
        now = time.monotonic()
        if now - last_report >= 5:
            print(f"  {len(idle)} connected, {failed} failed, {in_progress} in progress",
                  file=sys.stderr, flush=True)
            last_report = now
        if now > deadline:
            break
    print(f"ready {len(idle)} {failed + (args.count - len(idle) - failed)}", flush=True)
    while True:  # hold them; read keepalives so the server's writes never back up
        for key, _ in sel.select(timeout=10.0):
            conn = key.data
            try:
                if not conn["tls"].recv(65536):
                    sel.unregister(conn["tls"])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except (ssl.SSLError, OSError):
                try:
                    sel.unregister(conn["tls"])
                except (KeyError, ValueError):
                    pass


if __name__ == "__main__":
    main()
