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
source "$(dirname "$0")/lib/netns.sh"
source "$(dirname "$0")/lib/postgres.sh"
fail() { e2e_fail "$*"; }
[[ -x "$writer" ]] || { echo "no $writer (build the control_store_writer target)"; exit 1; }

e2e_init store-kill
work=$E2E_WORK
writer_pids=()
kill_writers() { for pid in "${writer_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; }
E2E_CLEANUP_HOOKS+=("kill_writers")

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

# --- PostgreSQL (the server keeps its durable defaults: fsync, synchronous_commit on) -------
pg_start
kill_rounds postgres "$PG_URL"
