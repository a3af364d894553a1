#!/usr/bin/env python3
"""Opens COUNT TLS connections to HOST:PORT, completes each handshake, then holds them idle.

    idle_tls_clients.py HOST PORT COUNT [--plain] [--parallel N]

Non-blocking sockets and selectors; at most N handshakes (default 256) are in progress at once so
the listener's backlog is not overrun. Prints "ready ESTABLISHED FAILED" once every connection
is established (or failed), then sleeps until it is killed (bench/http/run.sh reads the
server's RSS meanwhile). Never sends a request: the connections are idle right after the
handshake.
"""
import argparse
import resource
import selectors
import signal
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--parallel", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])

    sel = selectors.DefaultSelector()
    established = []
    failed = 0
    started = 0
    in_progress = 0
    deadline = time.monotonic() + args.timeout

    def start_one():
        nonlocal started, in_progress, failed
        started += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((args.host, args.port))
        if err not in (0, 115):  # EINPROGRESS
            failed += 1
            s.close()
            return
        in_progress += 1
        sel.register(s, selectors.EVENT_WRITE, {"state": "connect", "sock": s})

    while (started < args.count or in_progress > 0) and time.monotonic() < deadline:
        while started < args.count and in_progress < args.parallel:
            start_one()
        for key, _ in sel.select(timeout=1.0):
            info = key.data
            s = info["sock"]
            if info["state"] == "connect":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err != 0:
                    sel.unregister(s)
                    s.close()
                    failed += 1
                    in_progress -= 1
                    continue
                if args.plain:
                    sel.unregister(s)
                    established.append(s)
                    in_progress -= 1
                    continue
                sel.unregister(s)
                t = ctx.wrap_socket(s, server_hostname="localhost", do_handshake_on_connect=False)
                info = {"state": "tls", "sock": t}
                sel.register(t, selectors.EVENT_WRITE | selectors.EVENT_READ, info)
                s = t
            try:
                s.do_handshake()
            except ssl.SSLWantReadError:
                sel.modify(s, selectors.EVENT_READ, info)
                continue
            except ssl.SSLWantWriteError:
                sel.modify(s, selectors.EVENT_WRITE, info)
                continue
            except (ssl.SSLError, OSError):
                sel.unregister(s)
                s.close()
                failed += 1
                in_progress -= 1
                continue
            sel.unregister(s)
            established.append(s)
            in_progress -= 1

    print(f"ready {len(established)} {failed + in_progress}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
