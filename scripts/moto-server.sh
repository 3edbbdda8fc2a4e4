#!/usr/bin/env bash
# Start a moto S3 server on loopback by hand, for trying mediad's S3 client:
#
#   scripts/moto-server.sh            # no signature verification
#   scripts/moto-server.sh --auth     # SigV4 verified (IAM user created first)
#   scripts/moto-server.sh --proxy    # plus the fault-injecting proxy in front
#
# Prints the environment to export, then runs until Ctrl-C (or Ctrl-D).
# Needs: python3 with `pip install 'moto[server]'`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
info_file="$(mktemp)"
trap 'rm -f "$info_file"' EXIT

# The harness stops its server when its stdin closes: keep it open with our own stdin.
python3 "$here/storage/moto_harness.py" "$@" | tee "$info_file" | {
    read -r line
    python3 - "$line" <<'PY'
import json, sys
info = json.loads(sys.argv[1])
print(f"moto S3 server at {info['endpoint']} (pid {info['pid']}); signatures "
      + ("verified" if info["verifiesSignatures"] else "not verified"))
print(f"export AWS_ENDPOINT_URL_S3={info.get('proxyEndpoint', info['endpoint'])}")
print(f"export AWS_ACCESS_KEY_ID={info['accessKeyId']}")
print(f"export AWS_SECRET_ACCESS_KEY='{info['secretAccessKey']}'")
print(f"export AWS_REGION={info['region']}")
if "proxyEndpoint" in info:
    print(f"# fault proxy control: {info['proxyEndpoint']}/__proxy__/faults (see scripts/storage/fault_proxy.py)")
print("Ctrl-C to stop.")
PY
    cat >/dev/null
}
