#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds mediad, and runs
# `mediad process` over the fixtures with local storage, printing what it found and made.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building mediad"
swift build --product mediad 2>&1 | { grep -vE "prohibited flag|unhandled; explicitly declare|^\[[0-9]+/[0-9]+\]" || true; }
mediad=$(swift build --show-bin-path)/mediad
out=${MEDIAD_DEMO_OUT:-out/demo}
rm -rf "$out"
echo "demo: $mediad process fixtures/images fixtures/video --out $out"
echo
status=0
"$mediad" process fixtures/images $( [ -d fixtures/video ] && echo fixtures/video ) --out "$out" || status=$?
echo
if [ "$status" = 1 ]; then
  echo "demo: the failures above are the hostile fixtures (truncated, empty, bombs, wrong types): each has its own error code."
elif [ "$status" != 0 ]; then
  exit "$status"
fi
echo "demo: derivatives and manifest.json files are in $out/<file>/"
