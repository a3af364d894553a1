#!/usr/bin/env bash
# control's store survives SIGKILL: writers register nodes in a loop, printing an ACK line only
# after RegisterNode returned OK; each round kills them with SIGKILL at a random moment
# (0.05-0.5 s), on SQLite and on PostgreSQL (a throwaway server this script starts; only the
# writers are killed, never the server). Two writers share the database in every round. Then
# every ACKed node must be stored with exactly its ACKed machine key and addresses, and no address
# may be held by two nodes.
#   usage: control_store_kill_test.sh <build dir> [rounds]
set -euo pipefail
build=${1:?usage: control_store_kill_test.sh <build dir> [rounds]}
rounds=${2:-20}
writer="$build/test/e2e/control_store_writer"
pg_bin=${MESHVPN_PG_BINDIR:-/usr/lib/postgresql/15/bin}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ -x "$writer" ]] || fail "no $writer (build the control_store_writer target)"

work=$(mktemp -d /tmp/meshvpn-store-kill-XXXXXX)
writer_pids=()
pg_started=0
as_pg=()
cleanup() {
  local rc=$?
  for pid in "${writer_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((pg_started)); then
    (cd / && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" stop -m immediate -w -t 20 \
      >/dev/null 2>&1) ||
      (cd / && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" stop -m fast -w -t 20 \
        >/dev/null 2>&1) || true
  fi
  if ((rc != 0)); then
    for log in "$work"/*.err "$work"/pg/server.log; do
      [[ -s "$log" ]] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A random pause of 0.05-0.5 s.
pause() { sleep "$(printf '0.%03d' $((50 + RANDOM % 451)))"; }

# kill_rounds <name> <url>: the rounds, then the check.
kill_rounds() {
  local name=$1 url=$2 round acked
  for ((round = 1; round <= rounds; round++)); do
    writer_pids=()
    for w in 1 2; do
      "$writer" --url "$url" >"$work/$name.$round.$w.ack" 2>>"$work/$name.err" &
      writer_pids+=($!)
    done
    pause
    kill -9 "${writer_pids[@]}" 2>/dev/null || true
    wait "${writer_pids[@]}" 2>/dev/null || true
    writer_pids=()
  done
  acked=$(cat "$work/$name".*.ack | grep -c '^ACK ' || true)
  ((acked > 0)) || fail "$name: no writer ACKed a node in $rounds rounds"
  "$writer" --url "$url" --check "$work/$name".*.ack || fail "$name: the store lost ACKed nodes"
  echo "PASS: $name: $acked ACKed nodes survived $rounds rounds of SIGKILL (two writers each)"
}

# --- SQLite ----------------------------------------------------------------------------------
kill_rounds sqlite "sqlite:$work/store.db"

# --- PostgreSQL ------------------------------------------------------------------------------
for tool in initdb pg_ctl postgres; do
  [[ -x "$pg_bin/$tool" ]] ||
    fail "no $pg_bin/$tool: install postgresql-15 (cmake/debian-packages.txt; ./run setup)"
done
mkdir "$work/pg"
if ((EUID == 0)); then  # PostgreSQL refuses root
  chmod 0711 "$work"
  chown nobody: "$work/pg"
  as_pg=(runuser -u nobody --)
fi
(cd "$work/pg" && HOME="$work/pg" "${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" \
  --auth=trust --no-sync -U postgres -E UTF8 >"$work/pg/initdb.log" 2>&1) ||
  fail "initdb: $(cat "$work/pg/initdb.log")"
pg_started=1
# Only a Unix socket; the server keeps its durable defaults (fsync, synchronous_commit on).
(cd "$work/pg" && HOME="$work/pg" "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" \
  -l "$work/pg/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$work/pg'" start >/dev/null) ||
  fail "pg_ctl start"
kill_rounds postgres "postgres:host=$work/pg user=postgres dbname=postgres"
