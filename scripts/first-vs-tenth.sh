#!/usr/bin/env bash
# Warm-up check: start `sealcheck serve`, and once it is SERVING verify one capture ten times
# through the client, one call at a time; prints each call's service time (the server's
# log) and the first against the tenth. Default: the bundled sample.
# Usage: scripts/first-vs-tenth.sh [IMAGE APPROVED.txt]
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-testdata/samples/capture.jpg}"
approved="${2:-testdata/samples/approved.txt}"
listen="${SEALCHECK_LISTEN:-127.0.0.1:50781}"
log=$(mktemp)
target/release/sealcheck serve --listen "$listen" >/dev/null 2>"$log" &  # stdout: the audit log
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server; rm -f "$log"' EXIT
until grep -q SERVING "$log"; do
    kill -0 $server 2>/dev/null || { cat "$log"; exit 2; }
    sleep 0.2
done
for _ in $(seq 10); do
    target/release/sealcheck client --server "http://$listen" verify --image "$image" --approved-text "$approved" >/dev/null || true
done
grep -o ' ms=[0-9]*' "$log" | cut -d= -f2 | awk '
    { t[NR] = $1; printf "call %d: %d ms\n", NR, $1 }
    END { printf "first %d ms, tenth %d ms: first/tenth = %.2f\n", t[1], t[10], t[1] / t[10] }'
