#!/usr/bin/env bash
# Benchmark: N small photos through `mediad serve` (mock Kafka broker + local store) and the
# same files through `mediad process` offline, in one run. Prints files per second for both,
# their ratio (target: the daemon at least 0.9 of offline), end-to-end latency p50/p99 from
# produce to media.processed (broker timestamps), and the daemon's peak RSS.
#   N=300 scripts/bench-daemon.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
N=${N:-300}
CONCURRENCY=${CONCURRENCY:-2}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

bench_build

# Inputs: N 2 MP JPEGs.
bench_photos "$work/photos" "$N"
mkdir -p "$work/store/uploads/in"
cp "$work"/photos/*.jpg "$work/store/uploads/in/"

echo "bench: offline — mediad process, $N files, concurrency $CONCURRENCY"
start=$(date +%s.%N)
"$mediad" process "$work/photos" --out "$work/offline" --concurrency "$CONCURRENCY" >/dev/null
offline=$(echo "$(date +%s.%N) - $start" | bc -l)

echo "bench: daemon — mediad broker + mediad serve"
"$mediad" broker >"$work/broker.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/broker.out")
"$mediad" serve --brokers "$brokers" --concurrency "$CONCURRENCY" --http-port 0 \
  --set storage=local --set storageRoot="$work/store" --set logLevel=error ${QUEUE_DEPTH:+--set queueDepth=$QUEUE_DEPTH} &
pids+=($!)
sleep 4   # the mock's first group join takes ~3 s
start=$(date +%s.%N)
for i in $(seq 1 "$N"); do
  printf 'p%s\t{"specversion":"1.0","id":"%s","source":"/bench","type":"file.uploaded","data":{"fileId":"p%s","bucket":"uploads","key":"in/p%s.jpg"}}\n' "$i" "$i" "$i" "$i"
done | kcat -P -b "$brokers" -t file.uploaded -K $'\t' -q
# Wait for N results.
kcat -C -b "$brokers" -t media.processed -o beginning -c "$N" -f '%k %T\n' -q >"$work/out.txt"
daemon=$(echo "$(date +%s.%N) - $start" | bc -l)
kcat -C -b "$brokers" -t file.uploaded -o beginning -c "$N" -f '%k %T\n' -q >"$work/in.txt"
rss=$(awk "/VmHWM/ {print \$2}" /proc/${pids[1]}/status); kill -TERM "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true; echo "$rss" >"$work/serve.rss"

python3 - "$work/in.txt" "$work/out.txt" "$N" "$offline" "$daemon" "$(cat "$work/serve.rss")" <<'PY'
import sys
inp = dict(line.split() for line in open(sys.argv[1]) if line.strip())
out = dict(line.split() for line in open(sys.argv[2]) if line.strip())
n, offline, daemon, rss = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
latency = sorted(int(out[k]) - int(inp[k]) for k in out if k in inp)
p = lambda q: latency[min(len(latency) - 1, int(q * len(latency)))]
print(f"\n{'':32}{'offline':>12}{'daemon':>12}")
print(f"{'files per second':32}{n / offline:>12.1f}{n / daemon:>12.1f}")
print(f"\nratio daemon / offline throughput: {(n / daemon) / (n / offline):.3f}  (target >= 0.9)")
print(f"end-to-end latency (produce -> media.processed): p50 {p(0.5)} ms, p99 {p(0.99)} ms over {len(latency)} events")
print(f"daemon peak RSS: {rss / 1024:.0f} MB")
PY
