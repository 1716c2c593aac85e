#!/usr/bin/env bash
# Usage: with-chdbhttp.sh CHDBHTTP LIBCHDB COMMAND [ARG...]
#
# Starts chdbhttp (ClickHouse's HTTP interface and native protocol over the ClickHouse engine of
# chDB) on free ports, runs COMMAND with OLLYSTACK_CLICKHOUSE_DSN set to its HTTP endpoint and
# OLLYSTACK_CLICKHOUSE_NATIVE_DSN to its native one, stops it, and exits with COMMAND's status. The
# engine's data lives in a temporary directory removed at the end.
set -euo pipefail

chdbhttp=$1 lib=$2
shift 2
dir=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

"$chdbhttp" -lib "$lib" -listen 127.0.0.1:0 -listen-native 127.0.0.1:0 -addr-file "$dir/addr" \
	-data "$dir/data" 2>"$dir/log" &
pid=$!
for _ in $(seq 600); do
	[[ -s $dir/addr ]] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "chdbhttp exited before listening:" >&2
		cat "$dir/log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ ! -s $dir/addr ]]; then
	echo "chdbhttp did not listen within 60s:" >&2
	cat "$dir/log" >&2
	exit 1
fi
OLLYSTACK_CLICKHOUSE_DSN=$(sed -n 1p "$dir/addr")
OLLYSTACK_CLICKHOUSE_NATIVE_DSN=$(sed -n 2p "$dir/addr")
export OLLYSTACK_CLICKHOUSE_DSN OLLYSTACK_CLICKHOUSE_NATIVE_DSN
echo "with-chdbhttp: $(head -1 "$dir/log")"
status=0
"$@" || status=$?
# A harness that crashed, or did not stop cleanly, fails the run too.
kill "$pid" 2>/dev/null || true
server=0
wait "$pid" || server=$?
pid=
if [[ $server -ne 0 ]]; then
	echo "chdbhttp exited with status $server" >&2
	[[ $status -ne 0 ]] || status=1
fi
if [[ $status -ne 0 ]]; then
	echo "chdbhttp log:" >&2
	tail -50 "$dir/log" >&2
fi
exit "$status"
