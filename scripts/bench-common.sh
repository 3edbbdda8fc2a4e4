# Sourced by the benchmark scripts: what they all start with.

# Installs what is missing and builds the release binary; sets $mediad. BENCH_SCRATCH_PATH
# builds it in another directory than .build, so that a debug build can run alongside.
bench_build() {
  scripts/setup.sh --test >/dev/null
  echo "bench: building mediad (release)"
  local scratch=(${BENCH_SCRATCH_PATH:+--scratch-path "$BENCH_SCRATCH_PATH"})
  swift build -c release "${scratch[@]}" 2>&1 | { grep -E "error|Build" || true; }
  mediad=$(swift build -c release "${scratch[@]}" --show-bin-path)/mediad
}

# bench_photos DIR N: N distinct 2 MP JPEGs in DIR (12 generated pictures, copied, each copy
# with its own trailer after the end-of-image marker, so every file has its own SHA-256 and none
# is answered by content-addressed reuse), what a phone upload resized by a client looks like.
bench_photos() {
  local dir=$1 count=$2 i
  mkdir -p "$dir"
  for i in $(seq 1 "$count"); do
    if [ "$i" -le 12 ]; then
      ffmpeg -v error -y -f lavfi -i "testsrc2=size=1600x1200,noise=alls=12:allf=t,hue=H=$i" -frames:v 1 -q:v 4 "$dir/p$i.jpg"
    else
      cp "$dir/p$(( (i - 1) % 12 + 1 )).jpg" "$dir/p$i.jpg"
      printf 'bench copy %s' "$i" >>"$dir/p$i.jpg"
    fi
  done
}

# bench_rabbitmq DIR: a throwaway rabbitmq-server (Debian's) on a free loopback port, its
# node, data and logs in DIR; sets $amqp_uri and $rabbitmq_pid, waits until it serves.
bench_rabbitmq() {
  local dir=$1 port dist
  mkdir -p "$dir"
  read -r port dist < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
default_user = bench
default_pass = bench
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.console = false
CONF
  echo "[]." >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  export RABBITMQ_NODENAME="mediad-bench-$$@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port \
    RABBITMQ_DIST_PORT=$dist RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE="$dir/rabbitmq.pid" RUNNING_UNDER_SYSTEMD=true ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP="$dir/erl_crash.dump" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  HOME="$dir" /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/stdout.log" 2>&1 &
  rabbitmq_pid=$!
  # await_startup fails at once while the node has not registered with epmd yet.
  local attempt
  for attempt in $(seq 1 60); do
    HOME="$dir" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" await_startup --timeout 120 >/dev/null 2>&1 && break
    kill -0 "$rabbitmq_pid" 2>/dev/null || { cat "$dir/stdout.log"; echo "bench: rabbitmq-server exited" >&2; return 1; }
    [ "$attempt" = 60 ] && { echo "bench: rabbitmq-server did not start" >&2; return 1; }
    sleep 1
  done
  amqp_uri="amqp://bench:bench@127.0.0.1:$port/%2F"
}
