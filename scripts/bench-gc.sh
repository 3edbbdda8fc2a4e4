#!/usr/bin/env bash
# Benchmark: `mediad gc` against moto (plain), at two sizes, to show time and that peak memory
# does not grow with the number of objects (streamed listing, batches of folders). Each size
# gets a bucket of folders of 4 objects each (a manifest and 3 derivatives, or 4 derivatives
# without a manifest); of every 5 folders 1 lacks its manifest, 1 names an original that is
# gone, 3 are live (their original exists, outside the layout). gc runs once as a dry run and
# once with --delete; prints wall time and peak RSS (/usr/bin/time) for each.
#   SIZES="1000 10000" scripts/bench-gc.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
SIZES=${SIZES:-"1000 10000"}
work=$(mktemp -d)
moto_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true   # the harness stops moto when its stdin closes
  [ -n "$moto_pid" ] && { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

bench_build
pipelines=$(pwd)/pipelines

# A real manifest to copy: mediad's own, for one photo.
bench_photos "$work/photos" 1
"$mediad" process "$work/photos" --out "$work/processed" --pipelines "$pipelines" >/dev/null
manifest=$(find "$work/processed" -name manifest.json | head -1)
[ -n "$manifest" ] || { echo "bench: mediad process wrote no manifest"; exit 1; }

echo "bench: starting moto"
mkfifo "$work/moto.in"
python3 scripts/storage/moto_harness.py <"$work/moto.in" >"$work/moto.json" 2>"$work/moto.err" &
moto_pid=$!
exec 3>"$work/moto.in"
for _ in $(seq 1 300); do [ -s "$work/moto.json" ] && break; sleep 0.1; done
[ -s "$work/moto.json" ] || { echo "bench: moto did not start:"; cat "$work/moto.err"; exit 1; }
eval "$(python3 -c '
import json, sys
info = json.loads(open(sys.argv[1]).readline())
for name, value in [("AWS_ENDPOINT_URL_S3", info["endpoint"]), ("AWS_REGION", info["region"]),
                    ("AWS_ACCESS_KEY_ID", info["accessKeyId"]), ("AWS_SECRET_ACCESS_KEY", info["secretAccessKey"])]:
    print(f"export {name}={json.dumps(value)}")
' "$work/moto.json")"
export MEDIAD_STORAGE=s3 MEDIAD_PIPELINES="$pipelines"

# plant BUCKET OBJECTS: the bucket, filled with boto3 (16 threads); prints the folder and orphan counts.
plant() {
  python3 - "$1" "$2" "$manifest" <<'PY'
import concurrent.futures, json, os, sys
import boto3, botocore.config
bucket, objects, template = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3]))
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], region_name=os.environ["AWS_REGION"],
                  config=botocore.config.Config(max_pool_connections=16, retries={"max_attempts": 5}))
s3.create_bucket(Bucket=bucket)
blob = b"\0" * 300
def folder(i):
    prefix = f"derived/bench-{i:05d}/"
    kind = i % 5
    names = ["thumb-256.webp", "thumb-1024.webp", "preview.webp"]
    if kind == 0:  # a job that died halfway: derivatives, no manifest
        for name in names + ["placeholder.webp"]:
            s3.put_object(Bucket=bucket, Key=prefix + name, Body=blob)
        return
    source = f"in/gone-{i:05d}.jpg" if kind == 1 else f"in/photo-{i:05d}.jpg"
    if kind != 1:
        s3.put_object(Bucket=bucket, Key=source, Body=blob)
    manifest = dict(template, fileId=f"bench-{i:05d}")
    manifest["source"] = dict(template.get("source", {}), bucket=bucket, key=source)
    for name in names:
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=blob)
    s3.put_object(Bucket=bucket, Key=prefix + "manifest.json", Body=json.dumps(manifest).encode())
folders = objects // 4
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(folder, range(folders)))
print(folders, sum(1 for i in range(folders) if i % 5 in (0, 1)))
PY
}

# count BUCKET PREFIX: objects under PREFIX.
count() {
  python3 - "$1" "$2" <<'PY'
import os, sys
import boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], region_name=os.environ["AWS_REGION"])
print(sum(page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[1], Prefix=sys.argv[2])))
PY
}

value() { grep -E "^ *$1 " "$2" | awk '{print $NF}'; }

cd "$work"   # checkpoints land here
results=()
for objects in $SIZES; do
  bucket="gc$objects"
  echo "bench: planting $objects objects in s3://$bucket (moto)"
  start=$(date +%s.%N)
  plant "$bucket" "$objects" >plant.out
  read -r folders orphans <plant.out
  planted=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf "bench: planted %d folders (%d orphans) in %.1f s\n" "$folders" "$orphans" "$planted"

  echo "bench: mediad gc s3://$bucket --min-age 0 (dry run)"
  /usr/bin/time -f "%e %M" -o dry.time "$mediad" gc "s3://$bucket" --min-age 0 >dry.txt 2>dry.err || { cat dry.txt dry.err; exit 1; }
  [ "$(value orphans dry.txt)" = "$orphans" ] || { echo "bench: the dry run found $(value orphans dry.txt) orphans, expected $orphans"; cat dry.txt; exit 1; }
  [ "$(count "$bucket" derived/)" = "$objects" ] || { echo "bench: the dry run changed the bucket"; exit 1; }

  echo "bench: mediad gc s3://$bucket --min-age 0 --delete"
  /usr/bin/time -f "%e %M" -o delete.time "$mediad" gc "s3://$bucket" --min-age 0 --delete >delete.txt 2>delete.err || { cat delete.txt delete.err; exit 1; }
  left=$(count "$bucket" derived/)
  [ "$left" = "$(( (folders - orphans) * 4 ))" ] || { echo "bench: $left objects left under derived/, expected $(( (folders - orphans) * 4 ))"; cat delete.txt; exit 1; }
  results+=("$objects $folders $orphans $(cat dry.time) $(cat delete.time) $(value "objects deleted" delete.txt)")
done

python3 - "${results[@]}" <<'PY'
import sys
print(f"\n{'objects':>8} {'folders':>8} {'orphans':>8} {'dry run s':>10} {'dry RSS MB':>11} {'delete s':>9} {'delete RSS MB':>14} {'deleted':>8} {'folders/s (dry)':>16}")
for row in sys.argv[1:]:
    objects, folders, orphans, dry_s, dry_kb, del_s, del_kb, deleted = row.split()
    print(f"{objects:>8} {folders:>8} {orphans:>8} {float(dry_s):>10.2f} {int(dry_kb) / 1024:>11.1f} {float(del_s):>9.2f} "
          f"{int(del_kb) / 1024:>14.1f} {deleted:>8} {int(folders) / max(float(dry_s), 0.01):>16.0f}")
PY
