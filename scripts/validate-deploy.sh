#!/usr/bin/env bash
# Validate every Kubernetes manifest under deploy/ against the schemas kubernetes-validate
# bundles (strict: unknown fields fail), with no cluster. Needs scripts/service-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t manifests < <(find deploy -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
if [ "${#manifests[@]}" -eq 0 ]; then
    echo "validate-deploy: no manifests under deploy/" >&2
    exit 1
fi
.tools/venv/bin/kubernetes-validate --strict --quiet "${manifests[@]}"
echo "validate-deploy: ${#manifests[@]} manifest files valid"
