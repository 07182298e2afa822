#!/usr/bin/env bash
# Measure Dovecot's memory per idle IMAP connection, for comparison with
# Rookery's IDLE sessions. Starts a throwaway unprivileged Dovecot on a free
# loopback port (passwd-file users u1..uN in a temp dir), opens N Python
# imaplib clients that LOGIN, SELECT INBOX and IDLE, then sums RSS and PSS
# of the dovecot processes (PSS splits shared pages fairly between them).
#
#   scripts/dovecot-idle-mem.sh [N]      (default N=1000; needs dovecot-imapd)
# As root it re-runs itself as nobody: Dovecot refuses root for its services.
set -euo pipefail
n=${1:-1000}
if [ "$(id -u)" = 0 ]; then
	exec runuser -u nobody -- bash -c "$(cat "$0")" dovecot-idle-mem "$n"
fi
command -v dovecot >/dev/null || { echo "dovecot not installed (apt-get install dovecot-imapd)" >&2; exit 1; }

dir=$(mktemp -d /tmp/dovecot-idle-mem.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=$(id -un) group=$(id -gn)
for i in $(seq 1 "$n"); do
	echo "u$i:{PLAIN}pw:$(id -u):$(id -g)::$dir/mail/u$i::"
done >"$dir/passwd"
cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
first_valid_uid = $(id -u)
default_process_limit = $((n + 100))
default_client_limit = $((4 * n + 400))
mail_location = maildir:$dir/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/passwd
}
userdb {
  driver = passwd-file
  args = $dir/passwd
}
service imap-login {
  chroot =
  inet_listener imap {
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
CONF
dovecot -F -c "$dir/dovecot.conf" 2>>"$dir/dovecot.log" &
master=$!
cleanup() {
	kill "$master" 2>/dev/null || true
	wait "$master" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" 2>/dev/null && break
	sleep 0.2
done

# mem prints "<processes> <RSS KiB> <PSS KiB>" for dovecot's children
# named $1 (all of them, master included, for "").
mem() {
	local pids
	pids=$( (echo "$master"; pgrep -P "$master") | while read -r p; do
		[ -z "$1" ] || [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$1" ] && echo "$p"
	done)
	local count=0 rss=0 pss=0 r s
	for p in $pids; do
		r=$(awk '/^Rss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null) || continue
		s=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null) || continue
		count=$((count + 1)) rss=$((rss + r)) pss=$((pss + s))
	done
	echo "$count $rss $pss"
}
read -r _ rss0 pss0 < <(mem "")

# The clients stay in IDLE until this script exits and closes their stdin.
cat >"$dir/idle.py" <<'PY'
import imaplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for i in range(1, n + 1):
    c = imaplib.IMAP4("127.0.0.1", port)
    c.login(f"u{i}", "pw")
    c.select("INBOX")
    c.send(c._new_tag() + b" IDLE\r\n")
    line = c.readline()
    assert line.startswith(b"+"), line
    conns.append(c)
print("idling", len(conns), flush=True)
sys.stdin.read()
PY
exec 3> >(python3 "$dir/idle.py" "$port" "$n" >"$dir/clients.out" 2>&1)
for _ in $(seq 600); do
	grep -q idling "$dir/clients.out" 2>/dev/null && break
	grep -q Error "$dir/clients.out" 2>/dev/null && { cat "$dir/clients.out" "$dir/dovecot.log" >&2; exit 1; }
	sleep 0.5
done
grep -q "idling $n" "$dir/clients.out" || { echo "clients did not reach IDLE" >&2; cat "$dir/clients.out" >&2; exit 1; }
sleep 2 # let login processes exit

read -r procs rss pss < <(mem imap)
read -r _ rss1 pss1 < <(mem "")
echo "dovecot $(dovecot --version | cut -d' ' -f1): $n connections in IDLE"
echo "imap processes: $procs, RSS $((rss / 1024)) MiB, PSS $((pss / 1024)) MiB"
echo "per connection (imap processes): RSS $((rss / n)) KiB, PSS $((pss / n)) KiB"
echo "per connection (all dovecot processes, growth from idle): RSS $(((rss1 - rss0) / n)) KiB, PSS $(((pss1 - pss0) / n)) KiB"
exec 3>&-
