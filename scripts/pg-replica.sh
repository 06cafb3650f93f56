#!/usr/bin/env bash
# A PostgreSQL primary and a hot-standby replica fed by streaming replication, both in DIR, each on a
# free port of its own: for trying DATABASE_REPLICA_URL and for test/scale/replica.e2e-spec.ts. It
# leaves the machine's own cluster alone. Uses Debian's PostgreSQL binaries (any installed major
# version, the newest first, or PG_BIN); the servers run as the postgres OS user when started by root.
#
#   scripts/pg-replica.sh start DIR   prints PRIMARY_PORT=…, REPLICA_PORT=…, PRIMARY_URL=…, REPLICA_URL=…
#   scripts/pg-replica.sh stop DIR [replica|primary]
#                                     stops both servers, or one (DIR itself is left to the caller)
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || { echo "pg-replica: no PostgreSQL binaries (set PG_BIN)" >&2; exit 1; }

usage() { echo "usage: $0 start DIR | stop DIR [replica|primary]" >&2; exit 2; }
[ $# -eq 2 ] || [ $# -eq 3 ] || usage
CMD=$1
DIR=$(realpath -m "$2")

# Runs a PostgreSQL binary as the postgres user when we are root (initdb and postgres refuse root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A TCP port nobody listens on now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits until the server on port $1 accepts connections.
wait_ready() {
  for _ in $(seq 1 100); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" && return 0
    sleep 0.2
  done
  echo "pg-replica: server on port $1 did not start" >&2
  return 1
}

start() {
  mkdir -p "$DIR"
  [ -e "$DIR/primary" ] && { echo "pg-replica: $DIR already holds clusters (stop, then remove it)" >&2; exit 1; }
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR"
    as_pg test -w "$DIR" || { echo "pg-replica: the postgres user cannot reach $DIR (chmod a+x its parents)" >&2; exit 1; }
  fi
  local primary_port replica_port
  primary_port=$(free_port)
  replica_port=$(free_port)
  while [ "$replica_port" = "$primary_port" ]; do replica_port=$(free_port); done

  as_pg "$PG_BIN/initdb" -D "$DIR/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log"
  # Local connections only, trusted, including the replication connection the standby makes.
  cat >>"$DIR/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$DIR'
wal_level = replica
max_wal_senders = 5
wal_keep_size = 64MB
hot_standby = on
fsync = off
full_page_writes = off
EOF
  cat >"$DIR/primary/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w -t 30 start >/dev/null
  wait_ready "$primary_port"

  # -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile.
  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$DIR/replica" -R -X stream -c fast
  cat >>"$DIR/replica/postgresql.conf" <<EOF
port = $replica_port
hot_standby = on
EOF
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/replica" -l "$DIR/replica.log" -w -t 30 start >/dev/null
  wait_ready "$replica_port"

  echo "$primary_port" >"$DIR/primary.port"
  echo "$replica_port" >"$DIR/replica.port"
  echo "PRIMARY_PORT=$primary_port"
  echo "REPLICA_PORT=$replica_port"
  echo "PRIMARY_URL=postgres://postgres@127.0.0.1:$primary_port/postgres"
  echo "REPLICA_URL=postgres://postgres@127.0.0.1:$replica_port/postgres"
}

stop() {
  local cluster
  for cluster in ${1:-replica primary}; do
    if [ -f "$DIR/$cluster/postmaster.pid" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$DIR/$cluster" -m immediate -w -t 30 stop >/dev/null || true
    fi
  done
}

case "$CMD" in
  start) [ $# -eq 2 ] || usage; start ;;
  stop)
    case "${3:-}" in '' | replica | primary) stop "${3:-}" ;; *) usage ;; esac
    ;;
  *) usage ;;
esac
