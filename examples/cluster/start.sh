#!/usr/bin/env bash
# start.sh DIR [PORT_OFFSET]: a whole Rookery cluster on one machine, laid
# out like the seeds — HAProxy in front (127.0.0.10), two MX/submission hubs
# (mx1 127.0.0.11, mx2 .12), two IMAP/POP3 front ends (fe1 .21, fe2 .22),
# three mailstore back ends (ms1 .31, ms2 .32, ms3 .33) sharing the stores
# s1..s3, and one PostgreSQL and one S3 server (versitygw) on 127.0.0.1.
#
# It writes DIR/<node>/rookery.toml for every node, DIR/rookery.toml (the
# admin config: `rookery user list|store list|cluster status --config
# DIR/rookery.toml`), DIR/haproxy.cfg, DIR/credentials.txt (address password
# store per line) and DIR/nodes.txt (one line per process: name, roles,
# listeners as proto=host:port, pid=PID), then starts every process in the
# background and waits until each node's /readyz answers. Listeners use the
# quickstart's ports plus PORT_OFFSET (default 20000: SMTP 22525, IMAP 21143,
# POP3 21110 on HAProxy's 127.0.0.10). Stop everything with stop.sh DIR;
# start.sh DIR again restarts it with the same data and passwords.
#
# Environment: LEASE_TTL (default 10s) is a store lease's lifetime, i.e. the
# failover time after a mailstore node dies; CLAIM_TTL (default 1m) how long
# a queue runner's claim on due mail outlives its node; QUEUE_RETRY (e.g.
# "2s 5s 10s"; default the engine's 5m, 10m, ...) the waits between attempts.
# Needs PostgreSQL 15, versitygw and openssl; HAProxy if installed
# (without it the nodes run and are reached directly).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [PORT_OFFSET]" >&2; exit 2; }
dir=$1 offset=${2:-20000}
lease_ttl=${LEASE_TTL:-10s} claim_ttl=${CLAIM_TTL:-1m} retry=${QUEUE_RETRY:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
chmod 755 "$dir" # the PostgreSQL cluster runs as "postgres" when this runs as root
if [ -f "$dir/nodes.txt" ]; then
	for pid in $(grep -o 'pid=[0-9]*' "$dir/nodes.txt" | cut -d= -f2); do
		if kill -0 "$pid" 2>/dev/null; then
			echo "$0: $dir is running already (pid $pid); stop it with $here/stop.sh $dir" >&2
			exit 1
		fi
	done
fi
for tool in openssl timeout; do
	command -v $tool >/dev/null || { echo "$0: $tool is needed" >&2; exit 3; }
done

# The layout: name, address, roles. Every node lists every store; only the
# mailstore nodes serve them, one node per store at a time, under a lease.
nodes=(
	"mx1 127.0.0.11 mx,submission,outbound"
	"mx2 127.0.0.12 mx,submission,outbound"
	"fe1 127.0.0.21 imap,pop3"
	"fe2 127.0.0.22 imap,pop3"
	"ms1 127.0.0.31 mailstore,imap,pop3"
	"ms2 127.0.0.32 mailstore,imap,pop3"
	"ms3 127.0.0.33 mailstore,imap,pop3"
)
stores=(s1 s2 s3)
lb=127.0.0.10

free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }
port() { echo $(($1 + offset)); }
secret() { [ -f "$1" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$1"; cat "$1"; }
has() { [[ ",$1," == *",$2,"* ]]; }
# ready HOST:PORT: the node's /readyz answers 200 (plain bash, no curl).
ready() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1#*:}" && printf "GET /readyz HTTP/1.0\r\n\r\n" >&3 && head -n1 <&3 | grep -q " 200 "' _ "$1" 2>/dev/null
}

echo "building rookery..."
(cd "$repo" && go build -o "$dir/rookery" ./cmd/rookery)

pg_port=$(free_port $((5432 + offset)))
"$repo/scripts/pg-start.sh" "$dir/pg" "$pg_port"
s3_port=$(free_port $((7070 + offset)))
s3_secret=$(secret "$dir/s3.secret")
S3_TEST_ACCESS_KEY=rookery S3_TEST_SECRET_KEY=$s3_secret "$repo/scripts/s3-start.sh" "$dir/s3" "$s3_port"
cluster_secret=$(secret "$dir/cluster.secret")

peers=""
for n in "${nodes[@]}"; do
	read -r _ ip _ <<<"$n"
	peers+="${peers:+, }\"$ip/32\""
done

# engines prints the sections every config shares: the same database, S3
# server, directory, queue and stores on every node and the admin config.
engines() {
	cat <<TOML
[cluster]
secret    = "$cluster_secret"   # the same on every node; a password of every account to a back end
lease_ttl = "$lease_ttl"
advertise = "$1"
peers     = [$peers]

[postgres]
dsn = "postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"

[s3]
endpoint      = "127.0.0.1:$s3_port"
access_key    = "rookery"
secret_key    = "$s3_secret"
insecure      = true          # plain HTTP: loopback only; use TLS between machines
create_bucket = true

[directory]
engine = "postgres"

[queue]
engine    = "postgres"
bodies    = "s3://rookery/queue"
claim_ttl = "$claim_ttl"
TOML
	[ -z "$retry" ] || echo "retry     = [$(sed -E 's/[^ ]+/"&"/g; s/ +/, /g' <<<"$retry")]"
	for s in "${stores[@]}"; do
		printf '\n[[mailstores]]\nname   = "%s"\nengine = "postgres"\nblobs  = "s3://rookery/mailstores/%s"\n' "$s" "$s"
	done
}

mkdir -p "$dir/tls"
[ -f "$dir/tls/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=mail.example.test \
	-addext "subjectAltName=DNS:mail.example.test,DNS:*.example.test" -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>/dev/null

# listeners NAME IP ROLES prints the node's listeners as proto=host:port.
listeners() {
	local out=""
	has "$3" mx && out+=" mx=$2:$(port 2525)"
	has "$3" submission && out+=" submission=$2:$(port 2587)"
	has "$3" mailstore && out+=" lmtp=$2:$(port 2424)"
	has "$3" imap && out+=" imap=$2:$(port 1143)"
	has "$3" pop3 && out+=" pop3=$2:$(port 1110)"
	echo "$out http=$2:$(port 8080)"
}

for n in "${nodes[@]}"; do
	read -r name ip roles <<<"$n"
	mkdir -p "$dir/$name/data"
	cp "$dir/tls/cert.pem" "$dir/tls/key.pem" "$dir/$name/data/"
	{
		cat <<TOML
# Rookery node $name: roles $roles. Copy to the machine and change the
# addresses (listen, cluster.advertise, cluster.peers, postgres, s3) and the
# secrets; everything else is the same on every node.
node       = "$name"
hostname   = "$name.example.test"
roles      = [$(sed 's/[^,]*/"&"/g; s/,/, /g' <<<"$roles")]
data_dir   = "data"
postmaster = "alice@example.test"

[listen]
TOML
		for l in $(listeners "$name" "$ip" "$roles"); do
			printf '%-10s = "%s"\n' "${l%%=*}" "${l#*=}"
		done
		# Client-facing nodes take connections from HAProxy only with a PROXY
		# header: per-IP limits and the login throttle see the real client.
		if ! has "$roles" mailstore; then
			echo "proxy_from = [\"$lb/32\"]"
		fi
		cat <<TOML

[tls]
cert = "cert.pem"
key  = "key.pem"

[smtp]
# Loopback is exempt from the per-IP bound by default; here the clients are
# on 127.0.0.x themselves, so only the administrator's 127.0.0.1 and the
# cluster's own nodes (LMTP between them) are.
max_connections_per_ip        = 10
max_connections_per_ip_exempt = ["127.0.0.1/32", $peers]

TOML
		engines "$ip"
	} >"$dir/$name/rookery.toml"
done

cat >"$dir/rookery.toml" <<TOML
# The administrator's config: the cluster's engines and no listeners. Every
# \`rookery\` admin command works with it against the running cluster.
node       = "admin"
hostname   = "admin.example.test"
data_dir   = "admin"
postmaster = "alice@example.test"

TOML
engines 127.0.0.1 >>"$dir/rookery.toml"

rk() { "$dir/rookery" "$@" --config "$dir/rookery.toml"; }
registered=$(rk store list | awk '{ print $1 }')
for s in "${stores[@]}"; do
	grep -qx "$s" <<<"$registered" || rk store add "$s" >/dev/null
done
if ! grep -qx example.test <<<"$(rk domain list)"; then
	rk domain add example.test >/dev/null
	: >"$dir/credentials.txt"
	# alice, bob and carol live on three different stores.
	for i in 0 1 2; do
		u=$(echo alice bob carol | cut -d' ' -f$((i + 1)))@example.test
		pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
		echo "$pw" | rk user add "$u" --password-stdin --mailstore "${stores[$i]}" >/dev/null
		echo "$u $pw ${stores[$i]}" >>"$dir/credentials.txt"
	done
fi

# Every process is started in its own session (setsid): stop.sh and tests
# signal it by PID alone.
: >"$dir/nodes.txt.new"
for n in "${nodes[@]}"; do
	read -r name ip roles <<<"$n"
	setsid "$dir/rookery" serve --config "$dir/$name/rookery.toml" </dev/null >>"$dir/$name/log" 2>&1 &
	echo "$name $roles$(listeners "$name" "$ip" "$roles") pid=$!" >>"$dir/nodes.txt.new"
done
echo "postgres postgres postgres=127.0.0.1:$pg_port pid=$(head -n1 "$dir/pg/data/postmaster.pid")" >>"$dir/nodes.txt.new"
echo "s3 s3 s3=127.0.0.1:$s3_port pid=$(cat "$dir/s3/versitygw.pid")" >>"$dir/nodes.txt.new"
mv "$dir/nodes.txt.new" "$dir/nodes.txt"

for n in "${nodes[@]}"; do
	read -r name ip _ <<<"$n"
	pid=$(awk -v n="$name" '$1 == n { sub("pid=", "", $NF); print $NF }' "$dir/nodes.txt")
	for _ in $(seq 1 600); do
		ready "$ip:$(port 8080)" && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$0: $name exited; the end of $dir/$name/log:" >&2
			tail -n 20 "$dir/$name/log" >&2
			exit 1
		fi
		sleep 0.1
	done
	ready "$ip:$(port 8080)" ||
		{ echo "$0: $name is not ready after 60s; see $dir/$name/log" >&2; exit 1; }
done

if command -v haproxy >/dev/null; then
	# servers ROLE BASEPORT: the client-facing nodes (not the back ends)
	# with ROLE, with PROXY v2, checked through /readyz (a draining or
	# broken node gets no new connections).
	servers() {
		for n in "${nodes[@]}"; do
			read -r name ip roles <<<"$n"
			if has "$roles" "$1" && ! has "$roles" mailstore; then
				echo "    server $name $ip:$(port "$2") send-proxy-v2 check port $(port 8080) check-send-proxy inter 1s fall 2 rise 1"
			fi
		done
	}
	{
		cat <<CFG
# HAProxy in front of the cluster: SMTP and submission over the MX hubs,
# IMAP and POP3 over the front ends. send-proxy-v2 passes on each client's
# address; the nodes accept it from $lb only (listen.proxy_from).
global
    maxconn 4000

defaults
    mode tcp
    timeout connect 5s
    timeout client 30m
    timeout server 30m
    retries 3
    option redispatch
    option httpchk GET /readyz
    default-server source $lb
CFG
		# Logins stick to one front end per client address (balance
		# source), so each node's login throttle sees all of an address's
		# failures; MX connections carry no login and go round robin.
		for svc in "mx 2525 roundrobin" "submission 2587 source" "imap 1143 source" "pop3 1110 source"; do
			read -r name base balance <<<"$svc"
			printf '\nlisten %s\n    bind %s:%s\n    balance %s\n' "$name" "$lb" "$(port "$base")" "$balance"
			servers "$name" "$base"
		done
	} >"$dir/haproxy.cfg"
	haproxy -c -q -f "$dir/haproxy.cfg" || { echo "$0: $dir/haproxy.cfg is invalid" >&2; exit 1; }
	setsid haproxy -db -f "$dir/haproxy.cfg" </dev/null >>"$dir/haproxy.log" 2>&1 &
	hpid=$!
	for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$lb/$(port 1143)") 2>/dev/null && break; sleep 0.1; done
	kill -0 "$hpid" 2>/dev/null || { echo "$0: haproxy exited; see $dir/haproxy.log" >&2; cat "$dir/haproxy.log" >&2; exit 1; }
	echo "haproxy lb mx=$lb:$(port 2525) submission=$lb:$(port 2587) imap=$lb:$(port 1143) pop3=$lb:$(port 1110) pid=$hpid" >>"$dir/nodes.txt"
	smtp_host=$lb imap_host=$lb
else
	echo "$0: warning: haproxy is not installed; connect to the nodes directly (apt-get install haproxy)" >&2
	smtp_host=127.0.0.11 imap_host=127.0.0.21 # mx1 and fe1; mx2 and fe2 are .12 and .22
fi

cat <<INFO
The Rookery cluster is running (PostgreSQL 127.0.0.1:$pg_port, S3 127.0.0.1:$s3_port, bucket "rookery").
  SMTP (MX) $smtp_host:$(port 2525)   submission $smtp_host:$(port 2587) (STARTTLS, self-signed)
  IMAP      $imap_host:$(port 1143)   POP3       $imap_host:$(port 1110)
  processes $dir/nodes.txt
  accounts  $dir/credentials.txt
  admin     $dir/rookery cluster status --config $dir/rookery.toml
  logs      $dir/<node>/log
Stop it with: $here/stop.sh $dir
INFO
