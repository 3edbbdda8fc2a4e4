#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then `swift test`.
# Tests start the servers they need (S3 API server, Kafka mock cluster) themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "test: building (first build fetches and compiles the Swift packages; a few minutes)"
# pkg-config's -pthread and packages' stray files make harmless warnings; keep the rest.
swift build --build-tests 2>&1 | { grep -vE "prohibited flag|unhandled; explicitly declare|^\[[0-9]+/[0-9]+\]" || true; }
if [ "$#" -gt 0 ]; then
  swift test --skip-build "$@"
  exit
fi
# The suites that run real decoders in worker processes and kill them (seconds of transcoding
# each, thousands of fuzzed files) run after the rest, one at a time, so that their CPU load
# cannot starve the timing of the broker and rebalance suites.
heavy='IsolationTests|WorkerIsolationDaemonTests'
echo "test: running (1/2: all suites but the worker-process ones, in parallel)"
swift test --skip-build --skip "$heavy"
echo "test: running (2/2: the worker-process suites, one at a time)"
swift test --skip-build --no-parallel --filter "$heavy"
