#!/usr/bin/env bash
# The real thing on loopback, without Docker: noida-db (an independent implementation of the
# Kafka protocol), SeaweedFS (a production S3 server that verifies signatures) and
# `mediad serve` between them. Installs what is missing (scripts/setup.sh --test, plus the
# Python package confluent-kafka to create partitioned topics), builds mediad, starts the
# three, creates the bucket and the topics, prints what to run against them, and runs until
# Ctrl-C, then stops mediad, then the servers.
#
#   bash scripts/stack.sh           # Kafka 127.0.0.1:19092, S3 127.0.0.1:18333, health 127.0.0.1:18080
#   bash scripts/stack.sh --check   # the same, then uploads a photo, announces it, waits for its
#                                   # media.processed, lists the derivatives, and stops
#
# STACK_KAFKA_PORT, STACK_S3_PORT, STACK_HTTP_PORT choose other ports; STACK_DIR the data and
# logs (default out/stack, emptied at each start). Only loopback addresses are used.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/stack-servers.sh
check=0
[ "${1:-}" = "--check" ] && check=1
kafka_port=${STACK_KAFKA_PORT:-19092}
s3_port=${STACK_S3_PORT:-18333}
http_port=${STACK_HTTP_PORT:-18080}
dir=${STACK_DIR:-out/stack}
bucket=uploads
brokers=127.0.0.1:$kafka_port

scripts/setup.sh --test
echo "stack: building mediad"
swift build 2>&1 | { grep -vE "prohibited flag|unhandled; explicitly declare|^\[[0-9]+/[0-9]+\]" || true; }
mediad=$(swift build --show-bin-path)/mediad

for port in "$kafka_port" "$s3_port" "$http_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "stack: 127.0.0.1:$port is in use; choose others with STACK_KAFKA_PORT, STACK_S3_PORT, STACK_HTTP_PORT" >&2
    exit 1
  fi
done
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Started last, stopped first: mediad, then SeaweedFS, then noida-db.
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

http_ok() { python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1"; }

# --- noida-db (Kafka protocol) ---------------------------------------------------------------
stack_noida "$dir" "$kafka_port"
echo "stack: noida-db on $brokers (topics file.uploaded, media.processed, file.uploaded.dlq, file.reprocess)"

# --- SeaweedFS (S3) ---------------------------------------------------------------------------
stack_seaweedfs "$dir" "$s3_port" "$bucket"
echo "stack: SeaweedFS S3 on http://127.0.0.1:$s3_port (bucket $bucket)"

# --- mediad serve -----------------------------------------------------------------------------
MEDIAD_BROKERS=$brokers MEDIAD_STORAGE=s3 MEDIAD_HTTP_HOST=127.0.0.1 MEDIAD_HTTP_PORT=$http_port \
  MEDIAD_INSTANCE=stack "$mediad" serve >"$dir/mediad.log" 2>&1 &
pids+=($!)
stack_wait_for "mediad serve" 60 "$dir/mediad.log" http_ok "http://127.0.0.1:$http_port/readyz"
echo "stack: mediad serve ready (health http://127.0.0.1:$http_port/readyz, metrics /metrics); logs in $dir/*.log"

event() {  # fileId key: one CloudEvents file.uploaded record, "key<TAB>value" for kcat -K
  printf '%s\t{"specversion":"1.0","id":"%s-1","source":"/stack","type":"file.uploaded","subject":"%s","datacontenttype":"application/json","data":{"fileId":"%s","bucket":"%s","key":"%s"}}\n' \
    "$1" "$1" "$1" "$1" "$bucket" "$2"
}

if [ "$check" = 1 ]; then
  photo=fixtures/images/exif-rich.jpg
  echo "stack: check: uploading $photo as s3://$bucket/photos/check.jpg and announcing it"
  python3 -c 'import boto3, sys; boto3.client("s3").upload_file(sys.argv[1], sys.argv[2], "photos/check.jpg")' "$photo" "$bucket"
  event check-1 photos/check.jpg | kcat -P -b "$brokers" -t file.uploaded -K $'\t'
  result=$(timeout 120 kcat -C -b "$brokers" -t media.processed -o beginning -c 1 -q -f '%s\n')
  python3 - "$result" "$bucket" <<'PY'
import boto3, json, sys
data = json.loads(sys.argv[1])["data"]
print(f"stack: check: media.processed for {data['fileId']}: status {data['status']}, "
      f"{data['metadata'].get('width')}x{data['metadata'].get('height')}, "
      f"{len(data['derivatives'])} derivatives")
keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=sys.argv[2], Prefix="derived/").get("Contents", [])]
for key in keys:
    print(f"stack: check:   s3://{sys.argv[2]}/{key}")
if data["status"] != "succeeded" or not any(k.endswith("manifest.json") for k in keys):
    sys.exit("stack: check failed")
PY
  echo "stack: check passed"
  exit 0
fi

cat <<EOF

The stack runs. In another shell:

  source $dir/env                      # AWS_* for SeaweedFS (boto3 and the aws CLI read them)

  # upload an original (boto3; or: aws s3 cp fixtures/images/exif-rich.jpg s3://$bucket/photos/a.jpg)
  python3 -c 'import boto3; boto3.client("s3").upload_file("fixtures/images/exif-rich.jpg", "$bucket", "photos/a.jpg")'

  # announce it on file.uploaded (CloudEvents, keyed by fileId)
  printf '%s\t%s\n' f-1 '{"specversion":"1.0","id":"e-1","source":"/cli","type":"file.uploaded","subject":"f-1","datacontenttype":"application/json","data":{"fileId":"f-1","bucket":"$bucket","key":"photos/a.jpg"}}' \\
    | kcat -P -b $brokers -t file.uploaded -K \$'\t'

  # read the results and the dead letters
  kcat -C -b $brokers -t media.processed -o beginning -f '%k %s\n'
  kcat -C -b $brokers -t file.uploaded.dlq -o beginning -f '%k %h %s\n'

  # the derivatives and manifest.json
  python3 -c 'import boto3; [print(o["Key"]) for o in boto3.client("s3").list_objects_v2(Bucket="$bucket", Prefix="derived/")["Contents"]]'

  curl -s http://127.0.0.1:$http_port/metrics | grep mediad_

Ctrl-C stops mediad, then SeaweedFS and noida-db.
EOF
wait "${pids[2]}"
