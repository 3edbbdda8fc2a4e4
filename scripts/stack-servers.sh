# Sourced by scripts/stack.sh and scripts/bench-daemon.sh (STACK=real): noida-db (an independent
# implementation of the Kafka protocol) and SeaweedFS (a production S3 server that verifies
# signatures) on loopback, without Docker. Each start function appends the server's PID to the
# caller's `pids` array and fails (returns 1, with the log's tail) when the server does not start.

# stack_wait_for WHAT SECONDS LOG COMMAND...: waits until COMMAND succeeds.
stack_wait_for() {
  local what=$1 seconds=$2 log=$3
  shift 3
  for _ in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "stack: $what did not become ready within ${seconds}s; its log ($log):" >&2
  tail -n 30 "$log" >&2
  return 1
}

# stack_free_ports N: N distinct free loopback ports, space-separated.
stack_free_ports() {
  python3 -c '
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))' "$1"
}

# stack_noida DIR PORT: noida-db on 127.0.0.1:PORT (data in DIR/noida/data, log DIR/noida.log),
# with the topics at the partition counts of `mediad serve --embedded`: an auto-created topic
# would get one. Installs the Python package confluent-kafka (its admin client) when missing.
stack_noida() {
  local dir=$1 port=$2 noida
  if ! python3 -c "import confluent_kafka" 2>/dev/null; then
    echo "stack: installing Python package confluent-kafka (an admin client: CreateTopics)"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore confluent-kafka
  fi
  mkdir -p "$dir/noida"
  noida=$(python3 -c 'import noida_db, os; print(os.path.join(os.path.dirname(noida_db.__file__), "noida-db"))')
  "$noida" start --only kafka --host 127.0.0.1 --kafka-port "$port" --data-dir "$dir/noida/data" >"$dir/noida.log" 2>&1 &
  pids+=($!)
  stack_wait_for "noida-db" 30 "$dir/noida.log" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  python3 - "127.0.0.1:$port" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
topics = [NewTopic("file.uploaded", 4), NewTopic("media.processed", 4),
          NewTopic("file.uploaded.dlq", 1), NewTopic("file.reprocess", 2)]
for name, future in admin.create_topics(topics, request_timeout=30).items():
    future.result()
PY
}

# stack_seaweedfs DIR PORT BUCKET: SeaweedFS (`weed mini`) with its S3 gateway on 127.0.0.1:PORT
# and one identity with a fresh key (data in DIR/seaweedfs, log DIR/seaweedfs.log); writes
# DIR/env (the AWS_* variables boto3, the aws CLI and mediad read), sources it, creates BUCKET.
stack_seaweedfs() {
  local dir=$1 port=$2 bucket=$3 access_key secret_key weed ports
  mkdir -p "$dir/seaweedfs/data"
  read -r access_key secret_key < <(python3 -c 'import secrets; print("STACK" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))')
  python3 - "$dir/seaweedfs/s3.json" "$access_key" "$secret_key" <<'PY'
import json, sys
json.dump({"identities": [{"name": "mediad", "credentials": [{"accessKey": sys.argv[2], "secretKey": sys.argv[3]}],
                           "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, open(sys.argv[1], "w"))
PY
  # Every other port of `weed mini` (gRPC, master, volume, filer, admin): free loopback ports.
  read -r -a ports < <(stack_free_ports 9)
  weed=$(python3 -c 'import os, shutil, sysconfig; p = os.path.join(sysconfig.get_path("scripts"), "weed"); print(p if os.access(p, os.X_OK) else (shutil.which("weed") or ""))')
  "$weed" mini -dir="$dir/seaweedfs/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="$port" -s3.port.grpc="${ports[0]}" -s3.config="$dir/seaweedfs/s3.json" \
    -master.port="${ports[1]}" -master.port.grpc="${ports[2]}" -volume.port="${ports[3]}" -volume.port.grpc="${ports[4]}" \
    -filer.port="${ports[5]}" -filer.port.grpc="${ports[6]}" -admin.port="${ports[7]}" -admin.port.grpc="${ports[8]}" \
    -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 -s3.autoCreateBucket=false \
    >"$dir/seaweedfs.log" 2>&1 &
  pids+=($!)
  stack_wait_for "SeaweedFS" 60 "$dir/seaweedfs.log" bash -c \
    "grep -q 'All enabled components are running' '$dir/seaweedfs.log' && python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$port/healthz\", timeout=2)'"
  cat >"$dir/env" <<EOF
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export AWS_REGION=us-east-1
EOF
  # shellcheck disable=SC1091
  source "$dir/env"
  python3 -c 'import boto3, sys; boto3.client("s3").create_bucket(Bucket=sys.argv[1])' "$bucket"
}
