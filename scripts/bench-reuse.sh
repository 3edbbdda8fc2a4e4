#!/usr/bin/env bash
# Benchmark: content-addressed reuse against full processing of the same 24 MP photos, in one
# run, through `mediad serve` (mock broker + local store, one slot). For each of N distinct
# photos: its first upload is processed in full; the same bytes under another key are
# answered by server-side copies, once downloaded and hashed (no sha256 in the event) and once
# without a download (the event's sha256 matches the stored MD5). Events go one at a time, so
# each latency (broker timestamps, produce to media.processed) is one job's alone. Prints, per
# kind, the daemon's own job time (mediad_job_duration_seconds: reading the source to the
# outcome) and the end-to-end latency, and the ratios (target: reuse at least 20x faster). The
# consumer polls with fetch.wait.max.ms=5, so the broker's long-poll wait (up to 500 ms on the
# mock) does not hide the jobs' own times.
#   N=5 scripts/bench-reuse.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
N=${N:-5}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

bench_build

echo "bench: making $N distinct 24 MP JPEGs (6000x4000)"
mkdir -p "$work/store/uploads/in"
for i in $(seq 1 "$N"); do
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=6000x4000,noise=alls=10:allf=t,hue=H=$i" -frames:v 1 -q:v 3 "$work/store/uploads/in/a$i.jpg"
  cp "$work/store/uploads/in/a$i.jpg" "$work/store/uploads/in/b$i.jpg"
  cp "$work/store/uploads/in/a$i.jpg" "$work/store/uploads/in/c$i.jpg"
done
echo "bench: $(du -h "$work/store/uploads/in/a1.jpg" | cut -f1) per photo"

"$mediad" broker >"$work/broker" 2>/dev/null &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/broker" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/broker")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$mediad" serve --brokers "$brokers" --concurrency 1 --http-port "$port" \
  --set storage=local --set storageRoot="$work/store" --set logLevel=error --kafka fetch.wait.max.ms=5 --kafka fetch.error.backoff.ms=5 &
pids+=($!)
sleep 4   # the mock's first group join takes ~3 s

# send ID KEY [SHA256]: one upload, then wait for its answer (the COUNTth result).
count=0
send() {
  local extra=""
  [ -n "${3:-}" ] && extra=",\"sha256\":\"$3\""
  printf '%s\t{"specversion":"1.0","id":"%s","source":"/bench","type":"file.uploaded","data":{"fileId":"%s","bucket":"uploads","key":"%s"%s}}\n' \
    "$1" "$1" "$1" "$2" "$extra" | kcat -P -b "$brokers" -t file.uploaded -K $'\t' -q
  count=$((count + 1))
  kcat -C -b "$brokers" -t media.processed -o beginning -c "$count" -q -f '%k\n' >/dev/null
}
for i in $(seq 1 "$N"); do
  sha=$(sha256sum "$work/store/uploads/in/a$i.jpg" | cut -c1-64)
  send "full$i" "in/a$i.jpg"
  send "copy$i" "in/b$i.jpg"
  send "promised$i" "in/c$i.jpg" "$sha"
done
kcat -C -b "$brokers" -t file.uploaded -o beginning -c "$count" -q -f '%k %T\n' >"$work/in"
curl -s "http://127.0.0.1:$port/metrics" >"$work/metrics"
kcat -C -b "$brokers" -t media.processed -o beginning -c "$count" -q -f '%k %T %s\n' >"$work/out"

python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
produced = dict(line.split()[:2] for line in open(f"{work}/in") if line.strip())
latency, reused = {}, {}
for line in open(f"{work}/out"):
    key, ts, body = line.split(" ", 2)
    data = json.loads(body)["data"]
    assert data["status"] == "succeeded", data
    latency[key] = int(ts) - int(produced[key])
    reused[key] = data.get("reusedFrom", {}).get("fileId")
import re
metrics = open(f"{work}/metrics").read()
def job(path):
    total = float(re.search(rf'mediad_job_duration_seconds_sum{{path="{path}"}} ([0-9.e+-]+)', metrics).group(1))
    count = float(re.search(rf'mediad_job_duration_seconds_count{{path="{path}"}} ([0-9.e+-]+)', metrics).group(1))
    return 1000 * total / count
kinds = {"full": "processed in full", "copy": "reused (downloaded, hashed)", "promised": "reused (event sha256, no download)"}
medians = {}
for prefix, label in kinds.items():
    keys = sorted(k for k in latency if k.startswith(prefix) and k[len(prefix):].isdigit())
    for k in keys:
        assert (reused[k] is not None) == (prefix != "full"), (k, reused[k])
    medians[prefix] = statistics.median(latency[k] for k in keys)
processed, copied, promised = job("processed"), job("content"), job("content_promised")
print(f"{'':40}{'job (mean)':>12}{'end to end (median)':>22}")
print(f"{'processed in full':40}{processed:>9.1f} ms{medians['full']:>19.0f} ms")
print(f"{'reused (downloaded, hashed)':40}{copied:>9.1f} ms{medians['copy']:>19.0f} ms")
print(f"{'reused (event sha256, no download)':40}{promised:>9.1f} ms{medians['promised']:>19.0f} ms")
print(f"\nspeed-up of the job: {processed / copied:.1f}x after a download, {processed / promised:.1f}x without  (target >= 20x)")
print(f"speed-up end to end: {medians['full'] / medians['copy']:.1f}x after a download, {medians['full'] / medians['promised']:.1f}x without")
PY
