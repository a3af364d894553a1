# Sourced by e2e scripts that run servers on loopback.
# free_port: prints a port free on 127.0.0.1 for both UDP and TCP (a DNS server needs both).
free_port() {
  python3 -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try: u.bind(("127.0.0.1", p))
    except OSError: continue
    print(p); break'
}
