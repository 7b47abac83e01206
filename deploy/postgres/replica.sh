#!/usr/bin/env bash
# PostgreSQL streaming replication on one machine, for development, tests and a first replica.
#   deploy/postgres/replica.sh pair DIR PRIMARY_PORT REPLICA_PORT
#       a throwaway primary (initdb in DIR/primary, fsync off) and its streaming replica (DIR/replica)
#   deploy/postgres/replica.sh standby DIR PORT PRIMARY_HOST PRIMARY_PORT [REPLICATION_USER]
#       a streaming replica of an existing primary: pg_basebackup -R into DIR/replica, then start it
#       (the primary's pg_hba.conf must allow that user a "replication" connection from this host)
#   deploy/postgres/replica.sh stop DIR
# Nothing outside DIR is touched: each cluster has its own configuration, pg_hba.conf and socket directory.
# As root, the clusters run as the postgres user (PostgreSQL refuses root).
set -euo pipefail
action="${1:?usage: $0 pair|standby|stop DIR ...}"
dir="${2:?DIR}"
bindir="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

prepare_dir() {
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  return 0
}

start_standby() {  # port primary_host primary_port user
  local port="$1" host="$2" pport="$3" user="$4"
  as_owner "$bindir/pg_basebackup" -h "$host" -p "$pport" -U "$user" -D "$dir/replica" -R -X stream -c fast
  cat >> "$dir/replica/postgresql.auto.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
hot_standby = on
hot_standby_feedback = on
CONF
  as_owner "$bindir/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -t 60 start >/dev/null
}

case "$action" in
  pair)
    pport="${3:?PRIMARY_PORT}"; rport="${4:?REPLICA_PORT}"
    prepare_dir
    as_owner "$bindir/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$dir/primary/postgresql.conf" <<CONF
port = $pport
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 5
fsync = off
synchronous_commit = off
CONF
    # initdb --auth=trust already lets local users connect, replication included; say it explicitly
    echo "host replication postgres 127.0.0.1/32 trust" >> "$dir/primary/pg_hba.conf"
    as_owner "$bindir/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null
    start_standby "$rport" 127.0.0.1 "$pport" postgres
    echo "primary 127.0.0.1:$pport, replica 127.0.0.1:$rport (streaming)"
    ;;
  standby)
    port="${3:?PORT}"; host="${4:?PRIMARY_HOST}"; pport="${5:?PRIMARY_PORT}"; user="${6:-postgres}"
    prepare_dir
    start_standby "$port" "$host" "$pport" "$user"
    echo "replica 127.0.0.1:$port of $host:$pport (streaming)"
    ;;
  stop)
    for cluster in replica primary; do
      if [ -f "$dir/$cluster/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/$cluster" -m immediate -w stop >/dev/null || true
      fi
    done
    ;;
  *) echo "usage: $0 pair|standby|stop DIR ..." >&2; exit 2 ;;
esac
