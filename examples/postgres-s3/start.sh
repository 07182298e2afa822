#!/usr/bin/env bash
# start.sh DIR [PORT_OFFSET]: one Rookery node entirely on PostgreSQL + S3 —
# the directory, the queue (bodies in S3) and the mailstore "default" (blobs
# in S3) — with a throwaway PostgreSQL 15 cluster and a versitygw S3 server,
# all on 127.0.0.1. It writes DIR/rookery.toml (every `rookery` admin command
# works with --config DIR/rookery.toml), DIR/credentials.txt (address and
# password per line) and starts `rookery serve` in the background.
# Listeners: the quickstart's ports plus PORT_OFFSET (default 10000: SMTP on
# 12525, IMAP on 11143, POP3 on 11110). Stop everything with stop.sh DIR.
#
# Needs PostgreSQL 15 (apt-get install postgresql-15) and versitygw
# (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [PORT_OFFSET]" >&2; exit 2; }
dir=$1 offset=${2:-10000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
chmod 755 "$dir" # the PostgreSQL cluster runs as "postgres" when this runs as root
[ ! -e "$dir/rookery.pid" ] || { echo "$0: $dir is running already (stop.sh $dir)" >&2; exit 1; }

free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }
port() { echo $(($1 + offset)); }

echo "building rookery..."
(cd "$repo" && go build -o "$dir/rookery" ./cmd/rookery)

pg_port=$(free_port $((5432 + offset)))
"$repo/scripts/pg-start.sh" "$dir/pg" "$pg_port"
s3_port=$(free_port $((7070 + offset)))
[ -f "$dir/s3.secret" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$dir/s3.secret"
S3_TEST_ACCESS_KEY=rookery S3_TEST_SECRET_KEY=$(cat "$dir/s3.secret") "$repo/scripts/s3-start.sh" "$dir/s3" "$s3_port"

cat >"$dir/rookery.toml" <<TOML
hostname = "mail.example.test"
data_dir = "data"
postmaster = "alice@example.test"

[listen]
mx          = "127.0.0.1:$(port 2525)"
submission  = "127.0.0.1:$(port 2587)"
lmtp        = "127.0.0.1:$(port 2424)"
imap        = "127.0.0.1:$(port 1143)"
pop3        = "127.0.0.1:$(port 1110)"
http        = "127.0.0.1:$(port 8080)"

[tls]
cert = "cert.pem"
key  = "key.pem"

[postgres]
dsn = "postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"

[s3]
endpoint      = "127.0.0.1:$s3_port"
access_key    = "rookery"
secret_key    = "$(cat "$dir/s3.secret")"
insecure      = true          # plain HTTP on loopback only
create_bucket = true

[directory]
engine = "postgres"

[queue]
engine = "postgres"
bodies = "s3://rookery/queue"

[[mailstores]]
name   = "default"
engine = "postgres"
blobs  = "s3://rookery/mailstores/default"
TOML

rk() { "$dir/rookery" "$@" --config "$dir/rookery.toml"; }
mkdir -p "$dir/data"
[ -f "$dir/data/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=mail.example.test \
	-keyout "$dir/data/key.pem" -out "$dir/data/cert.pem" 2>/dev/null
if ! rk domain list | grep -qx example.test; then
	rk domain add example.test >/dev/null 2>&1
	: >"$dir/credentials.txt"
	for u in alice bob; do
		pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
		echo "$pw" | rk user add "$u@example.test" --password-stdin >/dev/null
		echo "$u@example.test $pw" >>"$dir/credentials.txt"
	done
fi

setsid "$dir/rookery" serve --config "$dir/rookery.toml" </dev/null >"$dir/rookery.log" 2>&1 &
echo $! >"$dir/rookery.pid"
for _ in $(seq 1 300); do
	grep -q "rookery started" "$dir/rookery.log" && break
	kill -0 "$(cat "$dir/rookery.pid")" 2>/dev/null || { cat "$dir/rookery.log" >&2; rm -f "$dir/rookery.pid"; exit 1; }
	sleep 0.1
done
grep -q "rookery started" "$dir/rookery.log" || { echo "$0: rookery did not start; see $dir/rookery.log" >&2; exit 1; }

cat <<INFO
Rookery is running on PostgreSQL 127.0.0.1:$pg_port and S3 127.0.0.1:$s3_port (bucket "rookery").
  SMTP (MX)   127.0.0.1:$(port 2525)      submission 127.0.0.1:$(port 2587) (STARTTLS, self-signed)
  IMAP        127.0.0.1:$(port 1143)      POP3       127.0.0.1:$(port 1110)
  accounts    $dir/credentials.txt
  admin       $dir/rookery user list --config $dir/rookery.toml
  log         $dir/rookery.log
Stop it with: $(dirname "$0")/stop.sh $dir
INFO
