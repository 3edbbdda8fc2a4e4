#!/usr/bin/env bash
# Throughput of mediad's S3 client against `aws s3 cp`, on the same local moto
# server in one run, plus the Swift side's peak RSS (which must stay flat with
# object size: transfers stream, parts are read from the file).
#
#   scripts/bench-storage.sh                 # builds mediad (release) first
#   MEDIAD_BIN=path/to/mediad scripts/bench-storage.sh
#
# Workload (override with the variables):
#   SMALL_COUNT files of SMALL_SIZE bytes (default 200 x 64 KiB): each tool copies the
#   folder in one process (`mediad storage cp --recursive --concurrency PARALLEL`,
#   `aws s3 cp --recursive`). AWS_PER_FILE=1 also times aws per file.
#   One LARGE_MB file (default 200 MB), uploaded then downloaded by one command each.
# moto (python) is the server for both, and usually the bottleneck.
#
# mediad side: `mediad storage cp SRC DST --endpoint URL`, credentials from the
# standard AWS_* environment variables.
# Needs: python3 with moto[server] and awscli (pip), a Swift toolchain.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMALL_COUNT="${SMALL_COUNT:-200}"
SMALL_SIZE="${SMALL_SIZE:-65536}"
LARGE_MB="${LARGE_MB:-200}"
PARALLEL="${PARALLEL:-8}"

if [[ -z "${MEDIAD_BIN:-}" ]]; then
    echo "building mediad (release)..." >&2
    swift build --package-path "$root" -c release >&2
    MEDIAD_BIN="$(swift build --package-path "$root" -c release --show-bin-path)/mediad"
fi
if ! "$MEDIAD_BIN" storage cp --help >/dev/null 2>&1; then
    echo "error: '$MEDIAD_BIN storage cp' is not available (the CLI subcommand is not there yet)" >&2
    exit 2
fi
command -v aws >/dev/null || { echo "error: awscli not installed (pip install awscli)" >&2; exit 2; }

work="$(mktemp -d)"
harness_pid=""
cleanup() {
    [[ -n "$harness_pid" ]] && kill "$harness_pid" 2>/dev/null && wait "$harness_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# --- the server: one moto for both tools (no signature checks: same cost for both)
mkfifo "$work/hold"
python3 "$root/scripts/storage/moto_harness.py" <"$work/hold" >"$work/moto.json" &
harness_pid=$!
exec 3>"$work/hold"   # keeps the harness's stdin open until this script exits
for _ in $(seq 1 300); do [[ -s "$work/moto.json" ]] && break; sleep 0.1; done
endpoint="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoint"])' "$work/moto.json")"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 || true
echo "moto at $endpoint" >&2

# --- the data
mkdir -p "$work/small" "$work/out-mediad/small" "$work/out-aws/small"
python3 - "$work/small" "$SMALL_COUNT" "$SMALL_SIZE" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(int(sys.argv[3])))
PY
head -c "$((LARGE_MB * 1000 * 1000))" /dev/urandom >"$work/large.bin"
head -c 1000000 /dev/urandom >"$work/one-mb.bin"
small_bytes=$((SMALL_COUNT * SMALL_SIZE))
large_bytes=$((LARGE_MB * 1000 * 1000))

aws s3 mb --endpoint-url "$endpoint" s3://bench-aws >/dev/null
aws s3 mb --endpoint-url "$endpoint" s3://bench-mediad >/dev/null

# run LABEL CMD...: wall seconds and peak RSS (KiB) of the command and its children.
run() {
    local label="$1"; shift
    python3 - "$@" <<'PY' >"$work/$label.measure"
import resource, subprocess, sys, time
start = time.monotonic()
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
elapsed = time.monotonic() - start
if result.returncode != 0:
    sys.exit(f"command failed ({result.returncode}): {' '.join(sys.argv[1:])}")
print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
    cat "$work/$label.measure"
}
mediad_cp() { "$MEDIAD_BIN" storage cp "$1" "$2" --endpoint "$endpoint"; }
aws_cp() { aws --endpoint-url "$endpoint" s3 cp --quiet "$1" "$2"; }
export -f mediad_cp aws_cp
export MEDIAD_BIN endpoint

small_list="$work/small.list"
(cd "$work/small" && ls) >"$small_list"
per_file() {  # TOOL DIRECTION
    local tool="$1" direction="$2" bucket="bench-$1"
    if [[ "$direction" == up ]]; then
        xargs -P "$PARALLEL" -I{} bash -c "${tool}_cp '$work/small/{}' 's3://$bucket/small/{}'" <"$small_list"
    else
        xargs -P "$PARALLEL" -I{} bash -c "${tool}_cp 's3://$bucket/small/{}' '$work/out-$tool/small/{}'" <"$small_list"
    fi
}
export -f per_file
export work small_list PARALLEL

declare -A seconds rss
measure() {  # KEY CMD...
    local key="$1"; shift
    read -r seconds[$key] rss[$key] < <(run "$key" "$@")
    echo "  $key: ${seconds[$key]} s" >&2
}

echo "small files: $SMALL_COUNT x $SMALL_SIZE bytes, $PARALLEL commands at a time" >&2
# Both tools copy the folder in one process: mediad with --recursive, PARALLEL files in flight.
measure mediad_small_up "$MEDIAD_BIN" storage cp --recursive --concurrency "$PARALLEL" "$work/small" "s3://bench-mediad/small/" --endpoint "$endpoint"
measure mediad_small_down "$MEDIAD_BIN" storage cp --recursive --concurrency "$PARALLEL" "s3://bench-mediad/small/" "$work/out-mediad/small" --endpoint "$endpoint"
measure aws_small_up aws --endpoint-url "$endpoint" s3 cp --quiet --recursive "$work/small" s3://bench-aws/small/
measure aws_small_down aws --endpoint-url "$endpoint" s3 cp --quiet --recursive s3://bench-aws/small/ "$work/out-aws/small"
if [[ "${AWS_PER_FILE:-0}" == 1 ]]; then
    measure aws_small_up_per_file bash -c "per_file aws up"
    measure aws_small_down_per_file bash -c "per_file aws down"
fi

echo "large file: $LARGE_MB MB" >&2
measure mediad_large_up "$MEDIAD_BIN" storage cp "$work/large.bin" s3://bench-mediad/large.bin --endpoint "$endpoint"
measure aws_large_up aws --endpoint-url "$endpoint" s3 cp --quiet "$work/large.bin" s3://bench-aws/large.bin
measure mediad_large_down "$MEDIAD_BIN" storage cp s3://bench-mediad/large.bin "$work/out-mediad/large.bin" --endpoint "$endpoint"
measure aws_large_down aws --endpoint-url "$endpoint" s3 cp --quiet s3://bench-aws/large.bin "$work/out-aws/large.bin"
measure mediad_onemb_up "$MEDIAD_BIN" storage cp "$work/one-mb.bin" s3://bench-mediad/one-mb.bin --endpoint "$endpoint"
measure mediad_onemb_down "$MEDIAD_BIN" storage cp s3://bench-mediad/one-mb.bin "$work/out-mediad/one-mb.bin" --endpoint "$endpoint"

# --- the copies must be exact, and each tool must read what the other wrote
cmp "$work/large.bin" "$work/out-mediad/large.bin"
cmp "$work/large.bin" "$work/out-aws/large.bin"
aws_cp s3://bench-mediad/large.bin "$work/cross-aws.bin" && cmp "$work/large.bin" "$work/cross-aws.bin"
mediad_cp s3://bench-aws/large.bin "$work/cross-mediad.bin" >/dev/null && cmp "$work/large.bin" "$work/cross-mediad.bin"
rm -f "$work/cross-aws.bin" "$work/cross-mediad.bin"
diff -r "$work/small" "$work/out-mediad/small" >/dev/null
diff -r "$work/small" "$work/out-aws/small" >/dev/null

python3 - "$small_bytes" "$large_bytes" <<PY
import sys
small, large = int(sys.argv[1]), int(sys.argv[2])
seconds = {$(for k in "${!seconds[@]}"; do printf '"%s": %s, ' "$k" "${seconds[$k]}"; done)}
rss = {$(for k in "${!rss[@]}"; do printf '"%s": %s, ' "$k" "${rss[$k]}"; done)}
def mbps(n, key): return n / seconds[key] / 1e6
print(f"{'transfer':<34}{'mediad MB/s':>12}{'aws MB/s':>10}{'ratio':>8}")
for label, n, key in [("small files up", small, "small_up"),
                      ("small files down", small, "small_down"),
                      (f"{large // 10**6} MB up", large, "large_up"),
                      (f"{large // 10**6} MB down", large, "large_down")]:
    m, a = mbps(n, "mediad_" + key), mbps(n, "aws_" + key)
    print(f"{label:<34}{m:>12.1f}{a:>10.1f}{m / a:>7.2f}x")
print("(small files: one --recursive command each)")
if "aws_small_up_per_file" in seconds:
    print(f"aws one command per file: up {mbps(small, 'aws_small_up_per_file'):.1f} MB/s, "
          f"down {mbps(small, 'aws_small_down_per_file'):.1f} MB/s")
print("mediad peak RSS: "
      f"1 MB up {rss['mediad_onemb_up'] / 1024:.0f} MiB, down {rss['mediad_onemb_down'] / 1024:.0f} MiB; "
      f"{large // 10**6} MB up {rss['mediad_large_up'] / 1024:.0f} MiB, down {rss['mediad_large_down'] / 1024:.0f} MiB")
print("aws peak RSS: "
      f"{large // 10**6} MB up {rss['aws_large_up'] / 1024:.0f} MiB, down {rss['aws_large_down'] / 1024:.0f} MiB")
PY
