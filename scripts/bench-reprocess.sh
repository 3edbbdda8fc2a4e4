#!/usr/bin/env bash
# Benchmark: `mediad reprocess` (direct mode, local store) against `mediad process` offline on
# the same N photos, in one run. Prints files per second for both and their ratio, the cost
# of a second, no-op run (listing + reading every manifest to find nothing outdated), the
# rate of `--publish` to the mock broker, and peak RSS.
#   N=200 scripts/bench-reprocess.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
N=${N:-200}
CONCURRENCY=${CONCURRENCY:-2}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

bench_build
pipelines=$(pwd)/pipelines

# Inputs: N 2 MP JPEGs.
bench_photos "$work/photos" "$N"
mkdir -p "$work/store/uploads/in"
cp "$work"/photos/*.jpg "$work/store/uploads/in/"
cd "$work"   # checkpoints land here

seconds() { echo "$(date +%s.%N) - $1" | bc -l; }
settings=(--set storage=local --set storageRoot="$work/store" --pipelines "$pipelines" --concurrency "$CONCURRENCY")

echo "bench: offline — mediad process, $N files, concurrency $CONCURRENCY"
start=$(date +%s.%N)
"$mediad" process "$work/photos" --out "$work/offline" --pipelines "$pipelines" --concurrency "$CONCURRENCY" >/dev/null
offline=$(seconds "$start")

echo "bench: mediad reprocess (direct), $N outdated files"
start=$(date +%s.%N)
/usr/bin/time -f %M -o "$work/reprocess.rss" "$mediad" reprocess uploads/in/ "${settings[@]}" >"$work/first.txt" 2>/dev/null
direct=$(seconds "$start")

echo "bench: mediad reprocess again (nothing outdated)"
start=$(date +%s.%N)
"$mediad" reprocess uploads/in/ "${settings[@]}" >"$work/second.txt" 2>/dev/null
noop=$(seconds "$start")

echo "bench: mediad reprocess --all --publish to the mock broker"
"$mediad" broker >"$work/broker.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/broker.out")
start=$(date +%s.%N)
"$mediad" reprocess uploads/in/ --all --publish --brokers "$brokers" "${settings[@]}" >"$work/publish.txt" 2>/dev/null
publish=$(seconds "$start")

grep -q "succeeded *$N" "$work/first.txt" || { echo "bench: the direct run did not succeed on every file:"; cat "$work/first.txt"; exit 1; }
grep -q "up to date *$N" "$work/second.txt" || { echo "bench: the second run found work:"; cat "$work/second.txt"; exit 1; }
grep -q "published *$N" "$work/publish.txt" || { echo "bench: publish did not publish every file:"; cat "$work/publish.txt"; exit 1; }

python3 - "$N" "$offline" "$direct" "$noop" "$publish" "$(cat "$work/reprocess.rss")" <<'PY'
import sys
n, offline, direct, noop, publish, rss = int(sys.argv[1]), *map(float, sys.argv[2:6]), int(sys.argv[6])
print(f"\n{'':36}{'process':>12}{'reprocess':>12}")
print(f"{'files per second':36}{n / offline:>12.1f}{n / direct:>12.1f}")
print(f"\nratio reprocess / process throughput: {(n / direct) / (n / offline):.3f}")
print(f"no-op run over {n} current files: {noop:.2f} s ({1000 * noop / n:.1f} ms per file, manifests included)")
print(f"--publish: {n / publish:.0f} events/s ({publish:.2f} s for {n}, planning included)")
print(f"reprocess peak RSS: {rss / 1024:.0f} MB")
PY
