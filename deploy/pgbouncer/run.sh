#!/usr/bin/env bash
# Start (or stop) a PgBouncer in transaction mode from deploy/pgbouncer/pgbouncer.ini.
#   deploy/pgbouncer/run.sh start [PORT] [UPSTREAM_HOST] [UPSTREAM_PORT]   (default 6432 127.0.0.1 5432)
#   deploy/pgbouncer/run.sh stop  [PORT]
# Its files live in ${PGBOUNCER_DIR:-/tmp/shouhou-pgbouncer-PORT}. PgBouncer refuses to run as root, so as
# root it runs as the postgres user. Exits non-zero when it is not accepting connections within 20 s.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
action="${1:-start}"
port="${2:-6432}"
upstream_host="${3:-127.0.0.1}"
upstream_port="${4:-5432}"
dir="${PGBOUNCER_DIR:-/tmp/shouhou-pgbouncer-$port}"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$action" in
  start)
    command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
    if pg_isready -q -h 127.0.0.1 -p "$port" -d pgbouncer -U postgres 2>/dev/null; then
      echo "pgbouncer already answering on $port"; exit 0
    fi
    mkdir -p "$dir"
    sed -e "s|@PORT@|$port|g" -e "s|@UPSTREAM_HOST@|$upstream_host|g" -e "s|@UPSTREAM_PORT@|$upstream_port|g" \
        -e "s|@DIR@|$dir|g" "$here/pgbouncer.ini" > "$dir/pgbouncer.ini"
    printf '"postgres" ""\n' > "$dir/userlist.txt"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
    as_owner pgbouncer -d "$dir/pgbouncer.ini"
    for _ in $(seq 1 40); do
      pg_isready -q -h 127.0.0.1 -p "$port" -d pgbouncer -U postgres && { echo "pgbouncer on $port"; exit 0; }
      sleep 0.5
    done
    echo "pgbouncer did not start on $port; log:" >&2; tail -20 "$dir/pgbouncer.log" >&2 || true; exit 1
    ;;
  stop)
    if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
    ;;
  *) echo "usage: $0 start|stop [PORT] [UPSTREAM_HOST] [UPSTREAM_PORT]" >&2; exit 2 ;;
esac
