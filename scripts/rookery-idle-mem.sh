#!/usr/bin/env bash
# Measure Rookery's memory per idle IMAP connection, the counterpart of
# scripts/dovecot-idle-mem.sh. Starts a throwaway node on a free loopback
# port (one user, session limits raised to N), opens N Python imaplib
# clients that LOGIN, SELECT INBOX and IDLE, and reports the server's RSS
# growth per connection (one process: RSS is what it costs).
#
#   scripts/rookery-idle-mem.sh [N]      (default N=5000)
set -euo pipefail
n=${1:-5000}
cd "$(dirname "$0")/.."
ulimit -n $((2 * n + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d /tmp/rookery-idle-mem.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
go build -o "$dir/rookery" ./cmd/rookery
cat >"$dir/rookery.toml" <<CONF
hostname = "mail.example.test"
data_dir = "$dir/data"
roles = ["mailstore", "imap"]
[listen]
imap = "127.0.0.1:$port"
[imap]
max_sessions_per_ip = $((n + 10))
max_userip_sessions = $((n + 10))
[log]
level = "warn"
CONF
R() { "$dir/rookery" "$@" --config "$dir/rookery.toml" >/dev/null; }
R domain add example.test
echo pw | R user add alice@example.test --password-stdin
"$dir/rookery" serve --config "$dir/rookery.toml" 2>"$dir/server.log" &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
rss() { awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status; }
# One login first: its argon2id check (64 MiB, then cached) belongs to the
# baseline, not to the sessions.
python3 -c "import imaplib; c = imaplib.IMAP4('127.0.0.1', $port); c.login('alice@example.test', 'pw'); c.logout()"
sleep 1
rss0=$(rss)

# The clients stay in IDLE until this script exits and closes their stdin.
cat >"$dir/idle.py" <<'PY'
import imaplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for i in range(n):
    c = imaplib.IMAP4("127.0.0.1", port)
    c.login("alice@example.test", "pw")
    c.select("INBOX")
    c.send(c._new_tag() + b" IDLE\r\n")
    line = c.readline()
    assert line.startswith(b"+"), line
    conns.append(c)
print("idling", len(conns), flush=True)
sys.stdin.read()
PY
exec 3> >(python3 "$dir/idle.py" "$port" "$n" >"$dir/clients.out" 2>&1)
for _ in $(seq 1200); do
	grep -q idling "$dir/clients.out" 2>/dev/null && break
	grep -q Error "$dir/clients.out" 2>/dev/null && { cat "$dir/clients.out" "$dir/server.log" >&2; exit 1; }
	sleep 0.5
done
grep -q "idling $n" "$dir/clients.out" || { echo "clients did not reach IDLE" >&2; cat "$dir/clients.out" >&2; exit 1; }
sleep 2
rss1=$(rss)
echo "rookery: $n connections in IDLE"
echo "server RSS $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB with the sessions"
echo "per connection: $(((rss1 - rss0) / n)) KiB"
exec 3>&-
