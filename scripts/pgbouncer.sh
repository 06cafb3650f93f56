#!/usr/bin/env bash
# PgBouncer in transaction mode in front of a PostgreSQL server, its files in DIR, on a free port:
# for running the server through a pooler and for test/scale/pgbouncer.e2e-spec.ts. Installs
# Debian's pgbouncer package when it is missing (apt-get, as root). Runs as the postgres OS user
# (pgbouncer refuses root). Clients log in as postgres without a password (auth_type trust), so it
# is for tests and trials on one machine, never a deployment (docs/REPLICATION.md has the settings
# that matter there).
#
#   scripts/pgbouncer.sh install                    installs pgbouncer if missing
#   scripts/pgbouncer.sh start DIR [HOST:PORT]      pools every database of that server
#                                                   (default 127.0.0.1:5432); prints PORT=…
#   scripts/pgbouncer.sh stop DIR
set -euo pipefail

usage() { echo "usage: $0 install | start DIR [HOST:PORT] | stop DIR" >&2; exit 2; }

install() {
  command -v pgbouncer >/dev/null && return 0
  echo "pgbouncer: installing Debian's package" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; } \
    || { echo "pgbouncer: could not install it (apt-get install -y pgbouncer)" >&2; exit 1; }
  # The package enables a system service on port 6432; ours runs from DIR instead.
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local server=${1:-127.0.0.1:5432} port
  install
  mkdir -p "$DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR"
    as_pg test -w "$DIR" || { echo "pgbouncer: the postgres user cannot reach $DIR (chmod a+x its parents)" >&2; exit 1; }
  fi
  port=$(free_port)
  echo '"postgres" ""' >"$DIR/userlist.txt"
  # statement_timeout: node-postgres sends it as a startup parameter (DATABASE_TIMEOUT_MS), which
  # pgbouncer refuses unless told to ignore it. Ignored here, it must be set on the server instead:
  # ALTER ROLE … SET statement_timeout (docs/REPLICATION.md).
  cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
* = host=${server%:*} port=${server##*:}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,statement_timeout
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/pgbouncer.ini" "$DIR/userlist.txt"
  as_pg pgbouncer -d "$DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "PORT=$port"; return 0; }
    sleep 0.1
  done
  echo "pgbouncer: did not start (see $DIR/pgbouncer.log)" >&2
  exit 1
}

stop() {
  [ -f "$DIR/pgbouncer.pid" ] || return 0
  local pid
  pid=$(cat "$DIR/pgbouncer.pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  install) [ $# -eq 1 ] || usage; install ;;
  start) [ $# -ge 2 ] && [ $# -le 3 ] || usage; DIR=$(realpath -m "$2"); start "${3:-}" ;;
  stop) [ $# -eq 2 ] || usage; DIR=$(realpath -m "$2"); stop ;;
  *) usage ;;
esac
