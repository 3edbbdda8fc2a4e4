#!/usr/bin/env bash
# Benchmark: N small photos through `mediad serve` (mock Kafka broker + local store), once with
# worker processes (`isolation: process`, the default) and once in-process (`isolation: none`),
# and the same files through `mediad process` offline, in one run. Prints files per second for
# each, the ratios (isolation costs at most 3 %; the daemon reaches 0.95 of offline), latency
# p50/p99 from produce to media.processed (broker timestamps), peak RSS of the parent and of the
# largest worker, and CPU per file: offline's whole, and the daemon's parent, workers and broker
# (/proc/PID/stat), which on 2 cores account for the daemon / offline ratio.
#   N=300 scripts/bench-daemon.sh
# ROUNDS=R (default 3) repeats offline and daemon runs in turn and reports each ratio's median
# with every round's value: on a shared virtual machine one ~10 s sample varies by 20 %.
# With TRANSPORT=rabbitmq, the daemon runs on a throwaway rabbitmq-server instead (worker
# processes only), publishing and reading with pika; it also prints the idle latency, one
# upload at a time, from publish to media.processed.
# With STACK=real, the daemon (worker processes) runs on noida-db and SeaweedFS instead
# (scripts/stack-servers.sh), its originals uploaded with boto3; it also prints the idle latency,
# one upload at a time, from produce to media.processed minus the job's own `timings.total`.
# STACK=real STORE=local keeps noida-db but uses the local store, to tell the broker's share of
# that latency from SeaweedFS's (the manifest, attempt marker and reuse checks are S3 calls
# outside `timings.total`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
. scripts/stack-servers.sh
N=${N:-300}
CONCURRENCY=${CONCURRENCY:-2}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

bench_build

# Inputs: N 2 MP JPEGs.
bench_photos "$work/photos" "$N"
mkdir -p "$work/store/uploads/in"
cp "$work"/photos/*.jpg "$work/store/uploads/in/"

# run_offline ROUND: `mediad process` on the photos; leaves the elapsed seconds in
# $work/offline.ROUND.seconds.
run_offline() {
  local start
  echo "bench: round $1 of $ROUNDS: offline — mediad process, $N files, concurrency $CONCURRENCY"
  rm -rf "$work/offline"
  start=$(date +%s.%N)
  # `time` reports the CPU of mediad and of the workers it reaped: the whole offline cost.
  { TIMEFORMAT='%U %S'; time "$mediad" process "$work/photos" --out "$work/offline" --concurrency "$CONCURRENCY" >/dev/null 2>"$work/offline.$1.log"; } 2>"$work/offline.$1.cpu"
  echo "$(date +%s.%N) - $start" | bc -l >"$work/offline.$1.seconds"
}

# cpu_ticks PID: the CPU clock ticks a live process has used itself (user + system).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# reaped_ticks PID: those of the children it has reaped (workers it replaced).
reaped_ticks() { awk '{print $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# upload_event ID KEY: one structured file.uploaded CloudEvent, "ID<TAB>value" for kcat -K.
upload_event() {
  printf '%s\t{"specversion":"1.0","id":"%s","source":"/bench","type":"file.uploaded","data":{"fileId":"%s","bucket":"uploads","key":"%s"}}\n' "$1" "$1" "$1" "$2"
}

# kafka_load BROKERS OUT: announces in/p1.jpg … in/pN.jpg at once and waits for N answers; leaves
# the elapsed seconds and the records' keys and timestamps (ms) in OUT.seconds, OUT.in, OUT.out.
kafka_load() {
  local brokers=$1 out=$2 start i
  start=$(date +%s.%N)
  for i in $(seq 1 "$N"); do upload_event "p$i" "in/p$i.jpg"; done | kcat -P -b "$brokers" -t file.uploaded -K $'\t' -q
  kcat -C -b "$brokers" -t media.processed -o beginning -c "$N" -f '%k %T\n' -q >"$out.out"
  echo "$(date +%s.%N) - $start" | bc -l >"$out.seconds"
  kcat -C -b "$brokers" -t file.uploaded -o beginning -c "$N" -f '%k %T\n' -q >"$out.in"
}

# run_daemon ISOLATION ROUND: a fresh mock broker and `mediad serve --set isolation=ISOLATION` on
# the same photos; leaves the elapsed seconds, the parent's peak RSS (KB), the workers' peak RSS
# (KB, largest) and produce/consume timestamps in $work/ISOLATION.ROUND.*.
run_daemon() {
  local isolation=$1 run=$work/$1.$2
  echo "bench: round $2 of $ROUNDS: daemon ($isolation isolation) — mediad broker + mediad serve"
  rm -rf "$work/store/uploads/derived"
  "$mediad" broker >"$run.broker" 2>/dev/null &
  local broker=$!
  pids+=("$broker")
  for _ in $(seq 1 50); do [ -s "$run.broker" ] && break; sleep 0.1; done
  local brokers
  brokers=$(head -1 "$run.broker")
  "$mediad" serve --brokers "$brokers" --concurrency "$CONCURRENCY" --http-port 0 \
    --set storage=local --set storageRoot="$work/store" --set logLevel=error --set isolation="$isolation" \
    ${QUEUE_DEPTH:+--set queueDepth=$QUEUE_DEPTH} &
  local serve=$!
  pids+=("$serve")
  sleep 4   # the mock's first group join takes ~3 s
  local parent0 broker0 reaped0 workers0=0 child
  parent0=$(cpu_ticks "$serve"); broker0=$(cpu_ticks "$broker"); reaped0=$(reaped_ticks "$serve")
  for child in $(pgrep -P "$serve" || true); do workers0=$((workers0 + $(cpu_ticks "$child"))); done
  kafka_load "$brokers" "$run"
  awk '/VmHWM/ {print $2}' "/proc/$serve/status" >"$run.rss"
  local worker_peak=0 rss workers1=0
  for child in $(pgrep -P "$serve" || true); do
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$child/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$worker_peak" ] && worker_peak=$rss
    workers1=$((workers1 + $(cpu_ticks "$child")))
  done
  echo "$worker_peak" >"$run.workers"
  # CPU per job over the load, in ms: the parent, its workers (live and replaced), the broker.
  echo "$(( $(cpu_ticks "$serve") - parent0 )) $(( workers1 - workers0 + $(reaped_ticks "$serve") - reaped0 )) $(( $(cpu_ticks "$broker") - broker0 ))" |
    awk -v n="$N" -v hz="$(getconf CLK_TCK)" '{printf "%.1f %.1f %.1f\n", $1 * 1000 / hz / n, $2 * 1000 / hz / n, $3 * 1000 / hz / n}' >"$run.cpu"
  kill -TERM "$serve"; wait "$serve" 2>/dev/null || true
  kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true
}

# run_rabbitmq ROUND: a fresh broker and `mediad serve --set transport=rabbitmq`; leaves the load
# run's seconds and latencies, the idle latencies and the parent's peak RSS in
# $work/rabbitmq.ROUND.*.
run_rabbitmq() {
  local run=$work/rabbitmq.$1
  echo "bench: round $1 of $ROUNDS: daemon (rabbitmq, process isolation) — rabbitmq-server + mediad serve"
  rm -rf "$work/store/uploads/derived"
  bench_rabbitmq "$run"
  pids+=("$rabbitmq_pid")
  for i in $(seq 1 10); do
    cp "$work/photos/p$i.jpg" "$work/store/uploads/in/idle$i.jpg"
    printf 'idle copy %s' "$i" >>"$work/store/uploads/in/idle$i.jpg"
  done
  "$mediad" serve --concurrency "$CONCURRENCY" --http-port 0 --set transport=rabbitmq --set amqpURI="$amqp_uri" \
    --set storage=local --set storageRoot="$work/store" --set logLevel=error ${QUEUE_DEPTH:+--set queueDepth=$QUEUE_DEPTH} &
  local serve=$!
  pids+=("$serve")
  sleep 3
  python3 scripts/bench-amqp-client.py load "$amqp_uri" "$N" file.events media.processed >"$run.load"
  python3 scripts/bench-amqp-client.py idle "$amqp_uri" 10 file.events media.processed >"$run.idle"
  awk '/VmHWM/ {print $2}' "/proc/$serve/status" >"$run.rss"
  kill -TERM "$serve"; wait "$serve" 2>/dev/null || true
  kill "$rabbitmq_pid" 2>/dev/null || true; wait "$rabbitmq_pid" 2>/dev/null || true
}

# run_real: noida-db and SeaweedFS on loopback and `mediad serve` (worker processes) on them; the
# load run as run_daemon's, then 10 idle samples, one upload at a time (each a copy with bytes of
# its own, so none is answered from another's outputs); leaves the results in $work/real.*.
run_real() {
  local kafka_port s3_port http_port brokers i store
  read -r kafka_port s3_port http_port < <(stack_free_ports 3)
  brokers=127.0.0.1:$kafka_port
  stack_noida "$work/real" "$kafka_port"
  if [ "${STORE:-seaweedfs}" = local ]; then
    echo "bench: daemon (noida-db + local store, process isolation) — mediad serve"
    for i in $(seq 1 10); do
      cp "$work/photos/p$i.jpg" "$work/store/uploads/in/idle$i.jpg"
      printf 'idle copy %s' "$i" >>"$work/store/uploads/in/idle$i.jpg"
    done
    store=(--set storage=local --set storageRoot="$work/store")
  else
    echo "bench: daemon (noida-db + SeaweedFS, process isolation) — mediad serve on the real stack"
    stack_seaweedfs "$work/real" "$s3_port" uploads
    store=(--set storage=s3 --set s3Endpoint="$AWS_ENDPOINT_URL_S3" --set s3PathStyle=true)
    python3 - "$work/photos" "$N" <<'PY'
import boto3, sys
from botocore.config import Config
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
photos, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    s3.upload_file(f"{photos}/p{i}.jpg", "uploads", f"in/p{i}.jpg")
for i in range(1, 11):
    body = open(f"{photos}/p{i}.jpg", "rb").read() + f"idle copy {i}".encode()
    s3.put_object(Bucket="uploads", Key=f"in/idle{i}.jpg", Body=body, ContentType="image/jpeg")
PY
  fi
  "$mediad" serve --brokers "$brokers" --concurrency "$CONCURRENCY" --http-port "$http_port" "${store[@]}" --set logLevel=error \
    ${QUEUE_DEPTH:+--set queueDepth=$QUEUE_DEPTH} >"$work/real/mediad.log" 2>&1 &
  local serve=$!
  pids+=("$serve")
  stack_wait_for "mediad serve" 60 "$work/real/mediad.log" \
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$http_port/readyz', timeout=2)"
  kafka_load "$brokers" "$work/real"
  local attempt
  for i in $(seq 1 10); do
    upload_event "idle$i" "in/idle$i.jpg" | kcat -P -b "$brokers" -t file.uploaded -K $'\t' -q
    for attempt in $(seq 1 600); do
      # grep reads to the end (no -q), so kcat is not cut off mid-write under pipefail.
      kcat -C -b "$brokers" -t media.processed -o beginning -e -q -f '%k\n' | grep -x "idle$i" >/dev/null && break
      [ "$attempt" = 600 ] && { echo "bench: no media.processed for idle$i" >&2; return 1; }
      sleep 0.05
    done
  done
  kcat -C -b "$brokers" -t file.uploaded -o beginning -e -q -f '%k\t%T\n' >"$work/real.idle.in"
  kcat -C -b "$brokers" -t media.processed -o beginning -e -q -f '%k\t%T\t%s\n' >"$work/real.idle.out"
  awk '/VmHWM/ {print $2}' "/proc/$serve/status" >"$work/real.rss"
  # mediad first, then SeaweedFS, then noida-db.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  pids=()
}

if [ "${STACK:-}" = real ]; then
  run_offline 1
  run_real
  python3 - "$work" "$N" "$(cat "$work/offline.1.seconds")" "$(cut -d' ' -f1-3 /proc/loadavg)" "${STORE:-seaweedfs}" <<'PY'
import json, sys
work, n, offline, load, store = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
stack = "noida-db + SeaweedFS" if store != "local" else "noida-db + local store"
inp = dict(line.split() for line in open(f"{work}/real.in") if line.strip())
out = dict(line.split() for line in open(f"{work}/real.out") if line.strip())
seconds = float(open(f"{work}/real.seconds").read())
latency = sorted(int(out[k]) - int(inp[k]) for k in out if k in inp)
p = lambda values, q: values[min(len(values) - 1, int(q * len(values)))]
idle_in = dict(line.split("\t") for line in open(f"{work}/real.idle.in").read().splitlines() if line.startswith("idle"))
idle, overhead = [], []
for line in open(f"{work}/real.idle.out").read().splitlines():
    key, produced, value = line.split("\t", 2)
    if key in idle_in:
        elapsed = int(produced) - int(idle_in[key])
        idle.append(elapsed)
        overhead.append(elapsed - json.loads(value)["data"]["timings"]["total"])
idle.sort()
overhead.sort()
rss = int(open(f"{work}/real.rss").read() or 0)
print(f"\n{'':40}{'offline':>10}{'real':>10}")
print(f"{'files per second':40}{n / offline:>10.1f}{n / seconds:>10.1f}")
print(f"{'latency p50 / p99 under load (ms)':40}{'':>10}{p(latency, 0.5):>5}/{p(latency, 0.99):<5}")
print(f"{'idle latency p50 / max (ms)':40}{'':>10}{p(idle, 0.5):>5}/{idle[-1]:<5}")
print(f"{'idle latency - timings.total p50 / max':40}{'':>10}{p(overhead, 0.5):>5.0f}/{overhead[-1]:<5.0f}")
print(f"{'peak RSS of mediad serve (MB)':40}{'':>10}{rss / 1024:>10.0f}")
print(f"\nratio daemon on {stack} / offline: {(n / seconds) / (n / offline):.3f}  (target >= 0.95)")
print(f"idle overhead on noida-db (produce to media.processed minus timings.total), {len(overhead)} samples: "
      f"p50 {p(overhead, 0.5):.0f} ms, max {overhead[-1]:.0f} ms  (target <= 50 ms)")
print(f"load average at the end: {load}")
PY
  exit 0
fi

if [ "${TRANSPORT:-kafka}" = rabbitmq ]; then
  for round in $(seq 1 "$ROUNDS"); do
    run_offline "$round"
    run_rabbitmq "$round"
  done
  python3 - "$work" "$N" "$ROUNDS" <<'PY'
import json, statistics, sys
work, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = lambda values, q: values[min(len(values) - 1, int(q * len(values)))]
offline, daemon, ratios, latency, idle, rss = [], [], [], [], [], 0
for r in range(1, rounds + 1):
    load = json.load(open(f"{work}/rabbitmq.{r}.load"))
    offline.append(n / float(open(f"{work}/offline.{r}.seconds").read()))
    daemon.append(n / load["seconds"])
    ratios.append(daemon[-1] / offline[-1])
    latency += load["latencies"]
    idle += json.load(open(f"{work}/rabbitmq.{r}.idle"))["latencies"]
    rss = max(rss, int(open(f"{work}/rabbitmq.{r}.rss").read() or 0))
latency.sort(); idle.sort()
print(f"\nmedians of {rounds} rounds")
print(f"{'':34}{'offline':>10}{'rabbitmq':>10}")
print(f"{'files per second':34}{statistics.median(offline):>10.1f}{statistics.median(daemon):>10.1f}")
print(f"{'latency p50 / p99 under load (ms)':34}{'':>10}{p(latency, 0.5):>5.0f}/{p(latency, 0.99):<5.0f}")
print(f"{'idle latency p50 / max (ms)':34}{'':>10}{p(idle, 0.5):>5.0f}/{idle[-1]:<5.0f}")
print(f"{'peak RSS of mediad serve (MB)':34}{'':>10}{rss / 1024:>10.0f}")
print(f"\nratio daemon on RabbitMQ / offline: {statistics.median(ratios):.3f}  (target >= 0.95; rounds: {', '.join(f'{x:.3f}' for x in ratios)})")
PY
  exit 0
fi

for round in $(seq 1 "$ROUNDS"); do
  run_offline "$round"
  run_daemon process "$round"
  run_daemon none "$round"
done

python3 - "$work" "$N" "$ROUNDS" <<'PY'
import statistics, sys
work, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(run):
    inp = dict(line.split() for line in open(f"{work}/{run}.in") if line.strip())
    out = dict(line.split() for line in open(f"{work}/{run}.out") if line.strip())
    seconds = float(open(f"{work}/{run}.seconds").read())
    latency = [int(out[k]) - int(inp[k]) for k in out if k in inp]
    rss = int(open(f"{work}/{run}.rss").read() or 0)
    workers = int(open(f"{work}/{run}.workers").read() if run.startswith("process") else 0)
    return n / seconds, latency, rss, workers
def summary(isolation):
    runs = [load(f"{isolation}.{r}") for r in range(1, rounds + 1)]
    latency = sorted(sum((run[1] for run in runs), []))
    p = lambda q: latency[min(len(latency) - 1, int(q * len(latency)))]
    return [run[0] for run in runs], p(0.5), p(0.99), max(run[2] for run in runs), max(run[3] for run in runs)
offline = [n / float(open(f"{work}/offline.{r}.seconds").read()) for r in range(1, rounds + 1)]
process, none = summary("process"), summary("none")
median = statistics.median
isolation_ratios = [a / b for a, b in zip(process[0], none[0])]
offline_ratios = [a / b for a, b in zip(process[0], offline)]
rounds_of = lambda values: ", ".join(f"{x:.3f}" for x in values)
print(f"\nmedians of {rounds} rounds")
print(f"{'':34}{'offline':>10}{'process':>10}{'none':>10}")
print(f"{'files per second':34}{median(offline):>10.1f}{median(process[0]):>10.1f}{median(none[0]):>10.1f}")
print(f"{'latency p50 / p99 (ms)':34}{'':>10}{process[1]:>5}/{process[2]:<5}{none[1]:>5}/{none[2]:<5}")
print(f"{'peak RSS of mediad serve (MB)':34}{'':>10}{process[3] / 1024:>10.0f}{none[3] / 1024:>10.0f}")
print(f"{'peak RSS of one worker (MB)':34}{'':>10}{process[4] / 1024:>10.0f}{'-':>10}")
print(f"\nratio worker processes / in-process: {median(isolation_ratios):.3f}  (target >= 0.97; rounds: {rounds_of(isolation_ratios)})")
print(f"ratio daemon (worker processes) / offline: {median(offline_ratios):.3f}  (target >= 0.95; rounds: {rounds_of(offline_ratios)})")
print(f"parent peak RSS with worker processes: {process[3] / 1024:.0f} MB  (target < 100 MB)")
# Where the CPU goes (medians over the rounds, ms per file): on 2 cores, throughput follows it.
offline_cpu = median(sum(map(float, open(f"{work}/offline.{r}.cpu").read().split())) * 1000 / n for r in range(1, rounds + 1))
cpu = [list(map(float, open(f"{work}/process.{r}.cpu").read().split())) for r in range(1, rounds + 1)]
parent, workers, broker = (median(run[i] for run in cpu) for i in range(3))
print(f"CPU per file (ms): offline {offline_cpu:.1f} (mediad process and its workers); daemon: parent {parent:.1f}, "
      f"workers {workers:.1f}, mock broker {broker:.1f}, together {parent + workers + broker:.1f}")
PY
