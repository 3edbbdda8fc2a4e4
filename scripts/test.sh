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
# Five groups, each run on its own so that one group's load cannot starve another's timing:
# the libraries' suites (storage and Kafka servers, decoders) in parallel; the daemon and
# backfill suites (real daemons, brokers and rebalances) in parallel; the suites that run
# real decoders in worker processes and kill them (seconds of transcoding each, thousands of
# fuzzed files); the fleets of real processes (noida-db, SeaweedFS, two replicas of the mediad
# binary); then the scale-out proof alone, whose ownership bound is within a second of the mock
# cluster's join rounds (docs/operations.md, "Scaling").
daemons='DaemonTests|BackfillTests'
heavy='IsolationTests|WorkerIsolationDaemonTests'
fleets='NoidaDaemonTests|FullStackTests'
scale='ScaleOutTests'
echo "test: running (1/5: the libraries' suites)"
swift test --skip-build --skip "$daemons|$heavy|$fleets|$scale"
echo "test: running (2/5: the daemon and backfill suites)"
swift test --skip-build --filter "$daemons" --skip "$heavy|$fleets|$scale"
echo "test: running (3/5: the worker-process suites)"
swift test --skip-build --filter "$heavy"
echo "test: running (4/5: noida-db, SeaweedFS and replicas of the binary)"
swift test --skip-build --filter "$fleets"
echo "test: running (5/5: the scale-out proof)"
swift test --skip-build --filter "$scale"
