#!/usr/bin/env bash
# The audit's test tool, installed once; idempotent: Debian's chromium, in which
# tests/audit.rs opens the audit report headless and README's screenshot is taken.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium
fi
