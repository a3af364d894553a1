#!/usr/bin/env python3
"""Test scaffolding: the attacker who recorded a client's TCP stream and plays it again.

  tcp_record_replay.py record LISTEN_PORT TARGET_HOST TARGET_PORT FILE
      a one-connection-at-a-time proxy on 127.0.0.1:LISTEN_PORT; every byte the client sends
      is forwarded, and written to FILE.1, FILE.2, ... (one file per connection)
  tcp_record_replay.py replay TARGET_HOST TARGET_PORT FILE
      takes the recorded connection (FILE.N) that carried the control channel's upgrade, opens a
      new connection, sends its bytes, reads until the server closes (at most 5 s)
      and prints how many bytes came back
"""
import select
import socket
import sys


def record(listen_port, host, port, path):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(8)
    n = 0
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection((host, port))
        n += 1
        out = open(f"{path}.{n}", "wb")
        pair = {client: upstream, upstream: client}
        open_ends = [client, upstream]
        while open_ends:
            ready, _, _ = select.select(open_ends, [], [])
            for s in ready:
                data = s.recv(65536)
                if not data:
                    open_ends = []
                    break
                if s is client:
                    out.write(data)
                    out.flush()
                pair[s].sendall(data)
        client.close()
        upstream.close()
        out.close()


def replay(host, port, path):
    import glob
    recorded = [open(f, "rb").read() for f in sorted(glob.glob(path + ".*"))]
    upgrades = [d for d in recorded if b"X-Meshvpn-Handshake" in d]
    if not upgrades:
        sys.exit(f"no recorded connection carried a control upgrade ({len(recorded)} recorded)")
    data = upgrades[0]
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(data)
    received = 0
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += len(chunk)
    except socket.timeout:
        pass
    print(f"replayed {len(data)} bytes, got {received} back")


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "replay":
        replay(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)
