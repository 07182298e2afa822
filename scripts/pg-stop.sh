#!/usr/bin/env bash
# pg-stop.sh DIR: stops the cluster pg-start.sh started in DIR (fast shutdown,
# by the postmaster's PID) and waits for it to exit. DIR itself is kept.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
pidfile=$1/data/postmaster.pid
[ -f "$pidfile" ] || exit 0
pid=$(head -n1 "$pidfile")
kill -INT "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 300); do
	kill -0 "$pid" 2>/dev/null || exit 0
	sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
