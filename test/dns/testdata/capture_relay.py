# A UDP relay that records each query and its answer as hex (for test/dns/testdata).
import socket, sys, json
listen = ("127.0.0.1", int(sys.argv[1])); upstream = ("127.0.0.1", int(sys.argv[2]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(listen)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
out = open(sys.argv[3], "a")
while True:
    q, client = s.recvfrom(65535)
    u.sendto(q, upstream)
    try:
        r, _ = u.recvfrom(65535)
    except socket.timeout:
        r = b""
    out.write(json.dumps({"query_hex": q.hex(), "response_hex": r.hex()}) + "\n"); out.flush()
    if r: s.sendto(r, client)
