#!/usr/bin/env bash
# Start a throwaway Rookery node set up like the peers of ../shared/bench
# (domain bench.local, users pop1..pop10 and rcpt1..rcpt20 with password
# benchpass), run ../shared/bench/run-target.sh against it, then stop it.
#
#   scripts/bench-target.sh [LABEL]     (SKIP, RUNS, SMTP_COUNT... pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:-rookery}
BENCH=${BENCH:-../shared/bench}
DIR=${DIR:-/tmp/rookery-bench}
PASS=benchpass
rm -rf "$DIR"; mkdir -p "$DIR"
go build -o "$DIR/rookery" ./cmd/rookery
cat >"$DIR/rookery.toml" <<CONF
hostname = "mail.bench.local"
data_dir = "$DIR/data"
default_domain = "bench.local"
[listen]
mx = "127.0.0.1:2525"
imap = "127.0.0.1:1143"
pop3 = "127.0.0.1:1110"
lmtp = "127.0.0.1:2424"
http = "127.0.0.1:8080"
[log]
level = "warn"
CONF
R() { "$DIR/rookery" "$@" --config "$DIR/rookery.toml" >/dev/null; }
R domain add bench.local
for u in pop{1..10} rcpt{1..20}; do echo "$PASS" | R user add "$u@bench.local" --password-stdin; done
"$DIR/rookery" serve --config "$DIR/rookery.toml" 2>"$DIR/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && break; sleep 0.1; done
HOST=127.0.0.1 IMAP_PORT=1143 POP3_PORT=1110 SMTP_PORT=2525 LMTP_PORT=2424 \
BENCH_PASS=$PASS MAIL_DOMAIN=bench.local SKIP="${SKIP:-}" \
	"$BENCH/run-target.sh" "$label"
