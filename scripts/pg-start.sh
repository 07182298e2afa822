#!/usr/bin/env bash
# pg-start.sh DIR PORT: a throwaway PostgreSQL 15 cluster for tests (started
# again if DIR holds one already), its data,
# socket and log in DIR, listening on 127.0.0.1:PORT with trust authentication
# (loopback only). Returns once the server accepts connections. fsync stays on:
# Rookery is a durability product and its tests should see real commit costs.
# initdb refuses to run as root, so as root the cluster runs as "postgres".
# If ROOKERY_WATCH_PID is set, the cluster is stopped (and DIR removed) once that
# process exits, so a test binary that dies cannot leak a server.
# Stop it with pg-stop.sh DIR.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR PORT" >&2; exit 2; }
dir=$1 port=$2
here=$(cd "$(dirname "$0")" && pwd)
bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
[ -x "$bin/initdb" ] || { echo "$0: no $bin/initdb; install PostgreSQL 15 (apt-get install postgresql-15) or set PG_BINDIR" >&2; exit 3; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
run=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$dir"
	run=(runuser -u postgres --)
fi
"${run[@]}" test -w "$dir" || { echo "$0: $dir is not writable by $("${run[@]}" id -un) (a parent directory may be private)" >&2; exit 3; }

# --no-sync only skips flushing initdb's own files: a crash loses a cluster that is thrown away anyway.
# A DIR that holds a cluster already is started again (tests stop and restart one).
if [ ! -f "$dir/data/PG_VERSION" ]; then
	"${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
fi
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o "\
 -c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir'\
 -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=64MB\
 -c wal_level=minimal -c max_wal_senders=0 -c full_page_writes=on" >/dev/null ||
	{ cat "$dir/postgres.log" >&2; exit 1; }

if [ -n "${ROOKERY_WATCH_PID:-}" ]; then
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2/pg-stop.sh" "$3"; rm -rf "$3"' \
		_ "$ROOKERY_WATCH_PID" "$here" "$dir" </dev/null >/dev/null 2>&1 &
fi
