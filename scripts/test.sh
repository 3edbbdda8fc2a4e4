#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then `swift test`.
# Tests start the servers they need (S3 API server, Kafka mock cluster) themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "test: building (first build fetches and compiles the Swift packages; a few minutes)"
# pkg-config's -pthread and packages' stray files make harmless warnings; keep the rest.
swift build --build-tests 2>&1 | { grep -vE "prohibited flag|unhandled; explicitly declare|^\[[0-9]+/[0-9]+\]" || true; }
echo "test: running"
swift test --skip-build "$@"
