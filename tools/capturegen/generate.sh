#!/usr/bin/env bash
# Regenerate the synthetic smart-seal case sets: testdata/cases/{tune,test,shift}/.
#
#   bash tools/capturegen/generate.sh            # all three splits
#   bash tools/capturegen/generate.sh shift      # one split
#
# Idempotent: creates the venv (.venv-gen, or $CAPTUREGEN_VENV) with the pinned requirements on
# first use, installs the CJK fonts with apt-get when missing, then rewrites the splits. Output is
# byte-for-byte reproducible from the seeds in generate.py (SEEDS) given the same pinned packages
# and font packages.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${CAPTUREGEN_VENV:-$ROOT/.venv-gen}"
FONT_PKGS=(fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai fonts-arphic-uming
  fonts-arphic-gbsn00lp fonts-arphic-gkai00mp fonts-lxgw-wenkai fonts-noto-cjk-extra)
FONT_FILES=(
  /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
  /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc
  /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc
  /usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc
  /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
  /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
  /usr/share/fonts/truetype/arphic/ukai.ttc
  /usr/share/fonts/truetype/arphic/uming.ttc
  /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf
  /usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf
  /usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf
  /usr/share/fonts/opentype/noto/NotoSansCJK-Light.ttc
  /usr/share/fonts/opentype/noto/NotoSerifCJK-Medium.ttc
  /usr/share/fonts/opentype/noto/NotoSerifCJK-Black.ttc
)

missing=0
for f in "${FONT_FILES[@]}"; do [[ -f "$f" ]] || missing=1; done
if [[ $missing == 1 ]]; then
  echo "installing CJK fonts: ${FONT_PKGS[*]}" >&2
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${FONT_PKGS[@]}" >/dev/null
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
if ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements.txt" 2>/dev/null; then
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/.requirements.txt"
fi

splits=("$@")
[[ ${#splits[@]} -gt 0 ]] || splits=(tune test shift)
for s in "${splits[@]}"; do
  echo "generating $s ..." >&2
  PYTHONHASHSEED=0 nice -n 10 "$VENV/bin/python" "$HERE/generate.py" --split "$s" \
    --out "$ROOT/testdata/cases/$s" > "${CAPTUREGEN_LOG:-/dev/null}"
  echo "  $(wc -l < "$ROOT/testdata/cases/$s/cases.jsonl") cases, $(du -sh "$ROOT/testdata/cases/$s" | cut -f1)" >&2
done
