#!/usr/bin/env bash
# The service under load (not a test; about 50 minutes on an idle 2-core machine): starts
# `sealcheck serve` on a free loopback port, then runs `sealcheck loadgen` as #32's
# acceptance asks, each run's figures as JSON in target/load/:
#   1. closed loop at 8 clients over the whole test split, beside the in-process verifier
#      (1 worker, then 2) on the same cases: the peak, its ratio, and every verdict compared;
#   2. closed loop at 1, 2, 4 and 16 clients, 60 calls each: the one-client latency;
#   3. open loop at 50 % and 80 % of that peak, 500 calls each;
#   4. open loop at 3× the peak for 3 minutes, then 10 calls from one client;
#   5. a soak of 1,500 calls with randomly rescaled captures.
# Arguments go to `sealcheck serve` (e.g. --queue 8, --workers 1 --threads 2); give the same
# engine flags to the baseline through LOADGEN_ENGINE (e.g. LOADGEN_ENGINE="--workers 1").
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo build --release --quiet
out=target/load
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/release/sealcheck serve --listen "127.0.0.1:$port" --audit-log "$out/audit.log" "$@" 2>"$out/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
loadgen() { target/release/sealcheck loadgen --server "http://127.0.0.1:$port" --server-pid "$server" "$@"; }
figure() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

uptime
# shellcheck disable=SC2086 # LOADGEN_ENGINE is a list of flags
loadgen --json "$out/closed-8.json" closed --clients 8 --baseline-workers 2 ${LOADGEN_ENGINE:-}
loadgen --json "$out/closed-curve.json" closed --clients 1,2,4,16 --requests 60 --no-baseline
peak=$(figure "$out/closed-8.json" "['levels'][0]['throughput']")
echo "peak: $peak calls/s"
for share in 0.5 0.8; do
    rate=$(python3 -c "print($peak * $share)")
    loadgen --json "$out/open-$share.json" open --rate "$rate" --requests 500
done
loadgen --json "$out/open-3x.json" open --rate "$(python3 -c "print($peak * 3)")" --duration 180 --after 10
loadgen --json "$out/soak.json" soak --requests 1500 --clients 4
uptime
