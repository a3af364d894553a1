#!/usr/bin/env bash
# nginx (Debian's nginx-light, /usr/sbin/nginx) and the http library, both ways, on 127.0.0.1:
#  (a) nginx in front of http_test_server (our UvServer) as its upstream, over HTTP/1.1 with
#      keepalive upstream connections, plain and (nginx as a TLS client, verifying our
#      self-signed certificate) TLS: wrk (or a curl loop) through nginx, the server's /stats
#      showing few connections for many requests; chunked request bodies streamed to us
#      (proxy_request_buffering off) and buffered to Content-Length; chunked and timer-streamed
#      responses through proxy_buffering off (events spread in time); an Upgrade relayed by nginx.
#  (b) nginx serving static files, fetched by http_test_client (our UvClient): a 5 MB file 20
#      times over one kept-alive connection, plain and over nginx's TLS (certificate from
#      `openssl req -x509`, verified with --cacert, by IP and by name, and by an SPKI pin),
#      sha256 of every body, connection reuse read from nginx's access log ($connection,
#      $connection_requests); a wrong CA and a 404 fail the client.
# Usage: nginx_test.sh <http_test_server> <http_test_client>. Exits 77 (skipped) without nginx,
# curl, openssl or python3. Everything lives in one mktemp dir (config, pid, logs, temp paths,
# docroot) that is removed afterwards; nginx (daemon off) and our server are stopped by pid.
set -euo pipefail
server_bin=${1:?usage: nginx_test.sh <http_test_server> <http_test_client>}
client_bin=${2:?usage: nginx_test.sh <http_test_server> <http_test_client>}
nginx_bin=$(command -v nginx || true)
[[ -z "$nginx_bin" && -x /usr/sbin/nginx ]] && nginx_bin=/usr/sbin/nginx
[[ -n "$nginx_bin" ]] || { echo "SKIP: nginx not found (apt-get install nginx-light)"; exit 77; }
for tool in curl openssl python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

work=$(mktemp -d /tmp/http_nginx.XXXXXX)
chmod 755 "$work"  # nginx's workers run as nobody when the master is root: they read www/
pids=()
cleanup() {
  local rc=$?
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ $rc -ne 0 ]]; then
    for f in "$work"/*.out "$work"/*.err "$work"/*.log; do
      [[ -s "$f" ]] || continue
      echo "----- $(basename "$f") (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*"
  exit 1
}
ok() { echo "ok: $*"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pattern() { python3 -c 'import sys; n=int(sys.argv[1]); sys.stdout.buffer.write((bytes(range(251))*(n//251+1))[:n])' "$1"; }

# start_server NAME ARGS...: http_test_server on 127.0.0.1:0; sets SRV_PID and SRV_ADDR.
start_server() {
  local name=$1
  shift
  "$server_bin" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  SRV_PID=$!
  pids+=("$SRV_PID")
  for _ in $(seq 100); do
    grep -q '^listening on ' "$work/$name.out" 2>/dev/null && break
    kill -0 "$SRV_PID" 2>/dev/null || fail "$name exited at start-up"
    sleep 0.05
  done
  SRV_ADDR=$(head -n 1 "$work/$name.out" | sed -n 's/^listening on //p')
  [[ -n "$SRV_ADDR" ]] || fail "$name printed no address"
}
# stat ADDR KEY [curl args]: one counter of a server's /stats (asked directly, not via nginx).
stat() {
  local addr=$1 key=$2
  shift 2
  curl -sSf "$@" "$addr/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$key"
}

start_server plain --max-body 16777216
srv=$SRV_ADDR
srv_pid=$SRV_PID
start_server tls --tls --cert-out "$work/ours.pem"
tsrv=$SRV_ADDR
tsrv_pid=$SRV_PID
echo "http_test_server on $srv (pid $srv_pid) and, with TLS, on $tsrv (pid $tsrv_pid)"

# nginx's own certificate: RSA (our pins so far were ECDSA), names localhost and 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/nginx.key" -out "$work/nginx.crt" 2>"$work/openssl.txt" || fail "openssl req: $(tail -n 5 "$work/openssl.txt")"
nginx_pin="sha256//$(openssl x509 -in "$work/nginx.crt" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)"

mkdir -p "$work/www" "$work/tmp"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$work/www/file5m.bin"
echo "static hello" >"$work/www/small.txt"
chmod 644 "$work/www"/*
file_sha=$(sha "$work/www/file5m.bin")

port=$(free_port)
tport=$(free_port)
cat >"$work/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log info;
events { worker_connections 1024; }
http {
  log_format e2e '\$request_uri \$status \$body_bytes_sent conn=\$connection reqs=\$connection_requests up=\$upstream_addr';
  access_log $work/access.log e2e;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  types { text/plain txt; application/octet-stream bin; }
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 1000;
  client_max_body_size 16m;

  upstream meshvpn {
    server $srv;
    keepalive 16;
    keepalive_requests 1000000;  # nginx's default (1000) would close each after 1000 requests
  }
  upstream meshvpn_tls {
    server $tsrv;
    keepalive 16;
    keepalive_requests 1000000;  # nginx's default (1000) would close each after 1000 requests
  }
  server {
    listen 127.0.0.1:$port;
    listen 127.0.0.1:$tport ssl;
    ssl_certificate $work/nginx.crt;
    ssl_certificate_key $work/nginx.key;
    root $work/www;

    # Our server as nginx's upstream: HTTP/1.1, kept-alive connections (no "Connection: close").
    location /proxy/ {
      proxy_pass http://meshvpn/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    # Streamed both ways: request bodies go to us as they come (chunked), responses as they come.
    location /unbuffered/ {
      proxy_pass http://meshvpn/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
    # nginx as a TLS client of our server, verifying its self-signed certificate by name.
    location /tlsproxy/ {
      proxy_pass https://meshvpn_tls/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $work/ours.pem;
      proxy_ssl_name localhost;
      proxy_ssl_server_name on;
      proxy_ssl_session_reuse on;
    }
    # An Upgrade relayed by nginx.
    location = /relay/upgrade {
      proxy_pass http://meshvpn/upgrade;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
    }
  }
}
EOF
"$nginx_bin" -t -p "$work/" -c "$work/nginx.conf" -e "$work/error.log" >"$work/nginx-t.out" 2>&1 ||
  fail "nginx -t: $(cat "$work/nginx-t.out")"
"$nginx_bin" -p "$work/" -c "$work/nginx.conf" -e "$work/error.log" >"$work/nginx.out" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/small.txt" && break
  kill -0 "$nginx_pid" 2>/dev/null || fail "nginx exited at start-up"
  sleep 0.05
done
workers=$(ps -o pid= --ppid "$nginx_pid" | tr -d ' ' | tr '\n' ' ')
echo "nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$port and :$tport (TLS), master pid $nginx_pid, workers $workers"
n="http://127.0.0.1:$port"
tn="https://127.0.0.1:$tport"

# ---------------------------------------------------------------------------------------------
# (a) Our server behind nginx.
[[ $(curl -sSf "$n/proxy/hello") == "hello from meshvpn" ]] || fail "/proxy/hello"
curl -sSf "$n/proxy/json" | python3 -c 'import json,sys; assert json.load(sys.stdin)["n"] == 42' || fail "/proxy/json"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$n/proxy/missing") == 404 ]] || fail "/proxy/missing"
ok "through nginx: /hello, /json, and our 404"

accepted0=$(stat "$srv" accepted)
requests0=$(stat "$srv" requests)
if command -v wrk >/dev/null; then
  wrk -t1 -c8 -d3s "$n/proxy/hello" >"$work/wrk.out" 2>&1 || fail "wrk: $(cat "$work/wrk.out")"
  total=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/wrk.out")
  rps=$(sed -n 's/^Requests\/sec: *//p' "$work/wrk.out")
  grep -q 'Non-2xx\|Socket errors' "$work/wrk.out" && fail "wrk saw errors: $(cat "$work/wrk.out")"
  how="wrk -c8 for 3 s: $total requests, $rps req/s, no errors"
else
  urls=()
  for i in $(seq 500); do urls+=("$n/proxy/hello?i=$i" -o /dev/null); done
  curl -sS --no-progress-meter --parallel --parallel-max 8 -w '%{http_code}\n' "${urls[@]}" >"$work/loop.txt"
  [[ $(grep -c '^200$' "$work/loop.txt") -eq 500 ]] || fail "curl loop: $(sort "$work/loop.txt" | uniq -c)"
  total=500
  how="curl --parallel-max 8: 500 requests, all 200"
fi
accepted1=$(stat "$srv" accepted)
requests1=$(stat "$srv" requests)
upstream_conns=$((accepted1 - accepted0 - 1))  # less this /stats request's own connection
upstream_reqs=$((requests1 - requests0 - 1))
[[ $upstream_reqs -ge $total ]] || fail "the server saw $upstream_reqs requests for $total through nginx"
[[ $upstream_conns -le 16 ]] || fail "keepalive upstream: $upstream_conns connections for $upstream_reqs requests"
ok "$how; our server got $upstream_reqs requests on $upstream_conns upstream connections (keepalive)"

# Request bodies: buffered by nginx (Content-Length to us) and streamed (chunked to us).
head -c 1500000 /dev/urandom >"$work/upload.bin"
want=$(sha "$work/upload.bin")
for loc in proxy unbuffered; do
  curl -sSf -H 'Transfer-Encoding: chunked' --data-binary @"$work/upload.bin" -D "$work/$loc.h" \
    -o "$work/$loc.echo" "$n/$loc/echo" || fail "$loc/echo"
  [[ $(sha "$work/$loc.echo") == "$want" ]] || fail "$loc/echo: body differs"
  framing=$(sed -n 's/^X-Received-Framing: *\([a-z]*\).*/\1/ip' "$work/$loc.h")
  echo "  /$loc/echo: 1.5 MB chunked from curl reached our server as '$framing'"
  if [[ $loc == unbuffered ]]; then
    [[ $framing == chunked ]] || fail "proxy_request_buffering off did not send chunked"
  else
    [[ $framing == length ]] || fail "buffered upload reached us as $framing"
  fi
done
ok "uploads through nginx echoed byte-exact: buffered (Content-Length to us) and streamed (chunked to us)"

# Responses: 5 MB with Content-Length and chunked, buffered and unbuffered.
five=$((5 * 1024 * 1024))
pattern "$five" >"$work/pattern.bin"
want_big=$(sha "$work/pattern.bin")
for path in "proxy/big?bytes=$five" "proxy/big?bytes=$five&stream=1" "unbuffered/big?bytes=$five&stream=1"; do
  read -r size secs < <(curl -sS -o "$work/big.bin" -w '%{size_download} %{time_total}\n' "$n/$path")
  [[ $size == "$five" && $(sha "$work/big.bin") == "$want_big" ]] || fail "/$path: size $size"
  echo "  /$path: sha256 matches, ${secs}s"
done
ok "5 MB responses through nginx (Content-Length, chunked, unbuffered chunked)"

# A timer-streamed response through proxy_buffering off arrives event by event.
k=20
curl -sSN "$n/unbuffered/stream?n=$k" | while IFS= read -r line; do
  if [[ $line == data:* ]]; then echo "$(date +%s%N) $line"; fi
done >"$work/events.txt"
events=$(wc -l <"$work/events.txt")
[[ $events -eq $k ]] || fail "/unbuffered/stream: $events events, want $k"
spread=$((($(tail -n 1 "$work/events.txt" | cut -d' ' -f1) - $(head -n 1 "$work/events.txt" | cut -d' ' -f1)) / 1000000))
[[ $spread -ge 100 ]] || fail "/unbuffered/stream: the $k events came within ${spread} ms (buffered?)"
ok "/stream?n=$k through proxy_buffering off: $k events, first to last ${spread} ms apart"

# An Upgrade relayed by nginx: 101, then the raw stream echoes.
python3 - "$port" <<'PY' || fail "upgrade through nginx"
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /relay/upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    b = s.recv(65536)
    assert b, buf
    buf += b
head, buf = buf.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 101"), head
payload = os.urandom(200000)
s.sendall(payload)
while len(buf) < len(payload):
    b = s.recv(65536)
    if not b:
        break
    buf += b
assert buf == payload, "echo differs: %d of %d bytes" % (len(buf), len(payload))
print("  upgrade through nginx: 101, %d bytes echoed" % len(payload))
PY
ok "Upgrade: echo relayed by nginx"

# Our client through nginx to our server: chunked framing from nginx, a POST.
"$client_bin" "$n/proxy/big?bytes=$five&stream=1" -n 3 >"$work/c-proxy.out" 2>"$work/c-proxy.err" ||
  fail "client via nginx: $(cat "$work/c-proxy.err")"
[[ $(grep -c "status=200 length=$five sha256=$want_big framing=chunked" "$work/c-proxy.out") -eq 3 ]] ||
  fail "client via nginx: $(cat "$work/c-proxy.out")"
"$client_bin" "$n/proxy/echo" --post "posted through nginx" -n 2 >"$work/c-post.out" 2>&1 ||
  fail "client POST via nginx: $(cat "$work/c-post.out")"
post_sha=$(printf 'posted through nginx' | sha256sum | cut -d' ' -f1)
[[ $(grep -c "length=20 sha256=$post_sha" "$work/c-post.out") -eq 2 ]] || fail "POST echo: $(cat "$work/c-post.out")"
ok "http_test_client -> nginx -> http_test_server: 3 x 5 MB chunked, 2 POSTs echoed"

# nginx as a TLS client of our server (proxy_ssl_verify on, trusting our self-signed cert).
t_acc0=$(stat "https://$tsrv" accepted --cacert "$work/ours.pem")
turls=()
for i in $(seq 100); do turls+=("$n/tlsproxy/hello?i=$i" -o /dev/null); done
curl -sS --no-progress-meter --parallel --parallel-max 4 -w '%{http_code}\n' "${turls[@]}" >"$work/tlsproxy.txt"
[[ $(grep -c '^200$' "$work/tlsproxy.txt") -eq 100 ]] || fail "/tlsproxy: $(sort "$work/tlsproxy.txt" | uniq -c)"
read -r size secs < <(curl -sS -o "$work/big.bin" -w '%{size_download} %{time_total}\n' "$n/tlsproxy/big?bytes=$five")
[[ $size == "$five" && $(sha "$work/big.bin") == "$want_big" ]] || fail "/tlsproxy/big: size $size"
t_acc1=$(stat "https://$tsrv" accepted --cacert "$work/ours.pem")
t_conns=$((t_acc1 - t_acc0 - 1))
[[ $t_conns -le 12 ]] || fail "TLS keepalive upstream: $t_conns connections for 101 requests"
ok "nginx -> our TLS server (verified): 100 requests + 5 MB (${secs}s) on $t_conns TLS connections"

# ---------------------------------------------------------------------------------------------
# (b) Our client against nginx's static files, 20 times over one connection.
# check_static NAME URL ARGS...: 20 fetches, every sha256 right, one nginx connection for all.
check_static() {
  local name=$1 url=$2
  shift 2
  : >"$work/access.log.mark"
  local before
  before=$(wc -l <"$work/access.log")
  "$client_bin" "$url" -n 20 "$@" >"$work/$name.out" 2>"$work/$name.err" ||
    fail "$name: http_test_client failed: $(cat "$work/$name.err")"
  local good
  good=$(grep -c "status=200 length=$((5 * 1024 * 1024)) sha256=$file_sha framing=length keep_alive=1" "$work/$name.out" || true)
  [[ $good -eq 20 ]] || fail "$name: $good of 20 bodies right: $(head -n 3 "$work/$name.out")"
  sleep 0.2  # nginx writes its access log line after each response
  tail -n +$((before + 1)) "$work/access.log" | grep '^/file5m.bin ' >"$work/$name.access"
  local lines conns last
  lines=$(wc -l <"$work/$name.access")
  conns=$(sed -n 's/.* conn=\([0-9]*\) .*/\1/p' "$work/$name.access" | sort -u | wc -l)
  last=$(tail -n 1 "$work/$name.access" | sed -n 's/.* reqs=\([0-9]*\) .*/\1/p')
  [[ $lines -eq 20 && $conns -eq 1 && $last -eq 20 ]] ||
    fail "$name: nginx logged $lines requests on $conns connections (last reqs=$last)"
  echo "  $(tail -n 1 "$work/$name.out")"
  ok "$name: 20 x 5 MB, sha256 $file_sha each, one nginx connection (\$connection_requests 1..20)"
}
check_static "static plain" "$n/file5m.bin"
check_static "static TLS --cacert" "$tn/file5m.bin" --cacert "$work/nginx.crt"
check_static "static TLS by name" "https://localhost:$tport/file5m.bin" --cacert "$work/nginx.crt"
check_static "static TLS --pin" "$tn/file5m.bin" --pin "$nginx_pin"

rc=0
"$client_bin" "$tn/small.txt" --cacert "$work/ours.pem" >"$work/wrongca.out" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "a wrong CA: exit $rc"
grep -q 'http_test_client: response 1:' "$work/wrongca.out" || fail "wrong CA: no message"
rc=0
"$client_bin" "$tn/small.txt" --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" >"$work/wrongpin.out" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "a wrong pin: exit $rc"
rc=0
"$client_bin" "$n/nothing-here" >"$work/404.out" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -q 'status=404' "$work/404.out" || fail "404: exit $rc $(cat "$work/404.out")"
ok "the client fails (exit 1, with a message) on a wrong CA, a wrong pin, and a 404"
echo "  wrong CA: $(grep 'response 1:' "$work/wrongca.out" | head -n 1)"

# ---------------------------------------------------------------------------------------------
# Stop everything by pid and check that it went.
kill -QUIT "$nginx_pid"  # graceful
for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$nginx_pid" 2>/dev/null && fail "nginx still running"
wait "$nginx_pid" || true
for w in $workers; do kill -0 "$w" 2>/dev/null && fail "nginx worker $w left behind"; done
grep -E '\[(alert|emerg|crit)\]' "$work/error.log" && fail "nginx logged alerts"
# [error]/[warn] lines about the upstream (our server): a premature close, a bad header, a
# timeout. Not about us: info lines on clients closing their own connections, and the warning
# that a buffered response spilled into proxy_temp_path (a slow reader under load).
upstream_errors=$(grep -E '\[(error|warn)\].*upstream' "$work/error.log" |
  grep -v 'buffered to a temporary file' || true)
[[ -z $upstream_errors ]] || fail "nginx logged upstream errors: $(head -n 3 <<<"$upstream_errors")"
for pid in "$srv_pid" "$tsrv_pid"; do
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "http_test_server $pid exited $rc"
done
grep -h '^stats ' "$work/plain.out" "$work/tls.out" | sed 's/^/  /'
grep -q 'PRIVATE KEY' "$work"/plain.* "$work"/tls.* "$work/ours.pem" && fail "our server printed key material"
pids=()
ok "nginx (master and workers) and both servers stopped; no upstream errors in nginx's log"
echo "PASS: nginx and the http library"
