# A throwaway PostgreSQL server for end-to-end tests, from Debian's postgresql package: initdb
# and pg_ctl in a temporary directory, listening only on a Unix socket there (no TCP), run as
# the unprivileged user `nobody` (PostgreSQL refuses root). Stopped and removed at cleanup.
# Source after lib/netns.sh and e2e_init:
#
#   source "$(dirname "$0")/lib/postgres.sh"
#   pg_start                     # sets PG_URL ("postgres:host=DIR user=postgres dbname=meshvpn")

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

pg_stop() {
  [[ -n "${PG_DIR:-}" && -d "$PG_DIR" ]] || return 0
  runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$PG_DIR"
}

pg_start() {
  [[ -x "$PG_BIN/initdb" ]] || e2e_fail "PostgreSQL server binaries not found (package postgresql)"
  PG_DIR=$(mktemp -d /tmp/mvpn-pg.XXXXXX)
  E2E_CLEANUP_HOOKS+=("pg_stop")
  chown nobody: "$PG_DIR"
  chmod 700 "$PG_DIR"
  (cd / && runuser -u nobody -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
    --no-instructions >"$PG_DIR/initdb.log" 2>&1) || { cat "$PG_DIR/initdb.log"; e2e_fail "initdb"; }
  (cd / && runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR'" start >/dev/null) ||
    { cat "$PG_DIR/server.log"; e2e_fail "pg_ctl start"; }
  (cd / && runuser -u nobody -- "$PG_BIN/createdb" -h "$PG_DIR" -U postgres meshvpn) ||
    e2e_fail "createdb"
  # The socket directory must be reachable by the server under test (root: it is).
  PG_URL="postgres:host=$PG_DIR user=postgres dbname=meshvpn"
  e2e_log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on $PG_DIR"
}
