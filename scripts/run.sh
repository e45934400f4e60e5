#!/usr/bin/env bash
# The main job: fetch and verify the runtime and models, build, and run sealcheck with the
# given arguments. With none, serve the gRPC API (sealcheck serve, on $SEALCHECK_LISTEN or
# 127.0.0.1:50051), verify the bundled sample through `sealcheck client` once it is
# SERVING, print the report, and keep serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo build --release --quiet
if [ $# -gt 0 ]; then
    exec target/release/sealcheck "$@"
fi
listen="${SEALCHECK_LISTEN:-127.0.0.1:50051}"
target/release/sealcheck serve --listen "$listen" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM
# GetInfo is UNAVAILABLE until every worker has run every model, when health turns SERVING.
until target/release/sealcheck client --server "http://$listen" info >/dev/null 2>&1; do
    kill -0 $server 2>/dev/null || { wait $server; exit $?; }
    sleep 0.5
done
status=0
target/release/sealcheck client --server "http://$listen" verify \
    --image testdata/samples/capture.jpg --approved-text testdata/samples/approved.txt || status=$?
echo "sealcheck: the sample verified through the service (exit $status); serving on $listen until Ctrl-C"
wait $server
