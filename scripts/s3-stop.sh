#!/usr/bin/env bash
# s3-stop.sh DIR: stops the versitygw that s3-start.sh started in DIR, by PID,
# and waits for it to exit. DIR itself is kept.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
pidfile=$1/versitygw.pid
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; exit 0; }
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; exit 0; }
	sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
