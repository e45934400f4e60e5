#!/usr/bin/env bash
# The whole test suite: fetch and verify the runtime and models, install the service's and
# the audit's test tools, check formatting, lints, the proto and the Kubernetes manifests,
# then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
bash scripts/service-tools.sh
bash scripts/audit-tools.sh
cargo fmt --check
cargo clippy --release --all-targets -- -D warnings
.tools/node/node_modules/.bin/buf lint proto
bash scripts/validate-deploy.sh
cargo test --release "$@"
