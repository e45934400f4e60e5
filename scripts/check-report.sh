#!/usr/bin/env bash
# Checks an evaluation's HTML report in headless Chromium, as a reader's browser opens it:
# it loads, logs no console error, and shows its three plots; a screenshot is written.
#   scripts/check-report.sh REPORT.html SCREENSHOT.png
# Installs Debian's chromium when it is missing (needs apt and root).
set -euo pipefail
report=$(realpath "$1")
shot=$2
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --user-data-dir="$profile")
# The DOM after loading, and the console's messages (Chromium logs them as CONSOLE lines).
chromium "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$report" >"$profile/dom.html" 2>"$profile/log.txt"
if grep -E ':CONSOLE[:(]|Uncaught' "$profile/log.txt"; then
  echo "check-report: the page logged to the console (a report has no script, so nothing should)" >&2
  exit 1
fi
for id in plot-blur plot-rotation plot-reliability; do
  python3 - "$profile/dom.html" "$id" <<'EOF'
import re, sys
dom, plot = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
figure = re.search(r'<figure[^>]*id="%s".*?</figure>' % re.escape(plot), dom, re.S)
if not figure or "<svg" not in figure.group(0) or "<path" not in figure.group(0) and "<polyline" not in figure.group(0):
    sys.exit(f"check-report: plot {plot} is missing or empty")
EOF
done
chromium "${flags[@]}" --window-size=1400,4000 --screenshot="$(realpath -m "$shot")" "file://$report" 2>/dev/null
echo "check-report: $1 loads without console errors and shows its three plots; screenshot in $shot"
