#!/usr/bin/env bash
# stop.sh DIR: stops what start.sh DIR started, by the PIDs in DIR/nodes.txt:
# HAProxy and the Rookery nodes (TERM, then KILL after 30 s), then the S3
# server and PostgreSQL. The data stays in DIR; start.sh DIR starts it again.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || { echo "$0: no directory $1" >&2; exit 1; }
dir=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$dir/nodes.txt" ]; then
	pids=()
	while read -r name _ rest; do
		case $name in postgres | s3) continue ;; esac # stopped by their scripts below
		pid=${rest##*pid=}
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done <"$dir/nodes.txt"
	for _ in $(seq 1 300); do
		alive=()
		for pid in ${pids[@]+"${pids[@]}"}; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
		[ ${#alive[@]} -eq 0 ] && break
		sleep 0.1
	done
	for pid in ${pids[@]+"${pids[@]}"}; do kill -KILL "$pid" 2>/dev/null && echo "$0: killed $pid, which ignored TERM for 30 s" >&2; done
fi
"$repo/scripts/s3-stop.sh" "$dir/s3"
"$repo/scripts/pg-stop.sh" "$dir/pg"
rm -f "$dir/nodes.txt"
echo "stopped; the data is kept in $dir"
