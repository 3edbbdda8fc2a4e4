#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds mediad, and runs
# `mediad demo`: the daemon (`serve`) on librdkafka's in-process mock cluster with a local
# directory as the object store. It uploads the fixtures, announces each with a
# file.uploaded event (plus one malformed message), and prints every media.processed event
# and dead letter as it arrives. Derivatives and manifests land in out/demo-store/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building mediad"
swift build 2>&1 | { grep -vE "prohibited flag|unhandled; explicitly declare|^\[[0-9]+/[0-9]+\]" || true; }
mediad=$(swift build --show-bin-path)/mediad
rm -rf out/demo-store
echo "demo: $mediad demo"
echo
"$mediad" demo --storage-root out/demo-store "$@"
echo
echo "demo: derivatives and manifest.json files are under out/demo-store/uploads/derived/<fileId>/"
echo "demo: to run one pipeline on local files without Kafka: $mediad process FILE... --out DIR"
