#!/usr/bin/env bash
# stop.sh DIR: stops what start.sh DIR started (rookery, then the S3 server,
# then PostgreSQL). The data stays in DIR; start.sh DIR starts it again.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$dir/rookery.pid" ]; then
	pid=$(cat "$dir/rookery.pid")
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/rookery.pid"
fi
"$repo/scripts/s3-stop.sh" "$dir/s3"
"$repo/scripts/pg-stop.sh" "$dir/pg"
echo "stopped; the data is kept in $dir"
