#!/usr/bin/env bash
# s3-start.sh DIR PORT: a throwaway S3 server for tests: versitygw serving the
# POSIX directory DIR/root on 127.0.0.1:PORT with the fixed test credentials
# below. Returns once the port accepts connections. versitygw is found as
# $VERSITYGW, on PATH, or in ~/.cache/rookery-ci/bin (where .ci/run installs it).
# If ROOKERY_WATCH_PID is set, the server is stopped (and DIR removed) once that
# process exits. Stop it with s3-stop.sh DIR.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR PORT" >&2; exit 2; }
dir=$1 port=$2
here=$(cd "$(dirname "$0")" && pwd)
access=${S3_TEST_ACCESS_KEY:-rookery-test}
secret=${S3_TEST_SECRET_KEY:-rookery-test-secret}
gw=${VERSITYGW:-$(command -v versitygw || echo "$HOME/.cache/rookery-ci/bin/versitygw")}
[ -x "$gw" ] || { echo "$0: versitygw not found; install it: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0" >&2; exit 3; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
# Something already answering on the port would pass the readiness check below.
if listening; then echo "$0: 127.0.0.1:$port is already in use" >&2; exit 1; fi
mkdir -p "$dir/root"
dir=$(cd "$dir" && pwd)
setsid "$gw" --access "$access" --secret "$secret" --port "127.0.0.1:$port" posix "$dir/root" \
	</dev/null >"$dir/versitygw.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/versitygw.pid"
for _ in $(seq 1 300); do
	if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/versitygw.log" >&2; exit 1; fi
	if listening; then break; fi
	sleep 0.05
done
listening && kill -0 "$pid" 2>/dev/null || { echo "$0: versitygw did not listen on $port" >&2; "$here/s3-stop.sh" "$dir"; exit 1; }

if [ -n "${ROOKERY_WATCH_PID:-}" ]; then
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2/s3-stop.sh" "$3"; rm -rf "$3"' \
		_ "$ROOKERY_WATCH_PID" "$here" "$dir" </dev/null >/dev/null 2>&1 &
fi
