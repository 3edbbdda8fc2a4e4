#!/usr/bin/env bash
# Benchmark: mediad's thumbnail stage against vipsthumbnail on the same large photos, in one run.
# Prints CPU seconds per image for both, their ratio, and mediad's peak RSS on a 100 MP photo.
#   N=8 scripts/bench-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test >/dev/null
N=${N:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/big" "$work/pipelines"

echo "bench: making $N 24 MP JPEGs and one 100 MP JPEG (noise-textured test patterns, photo-like entropy)"
for i in $(seq 1 "$N"); do
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=6000x4000,noise=alls=18:allf=t,hue=H=$i" -frames:v 1 -q:v 3 "$work/in/photo-$i.jpg"
done
ffmpeg -v error -y -f lavfi -i "testsrc2=size=12240x8160,noise=alls=18:allf=t" -frames:v 1 -q:v 3 "$work/big/pano-100mp.jpg"

echo "bench: building mediad (release)"
swift build -c release 2>&1 | { grep -E "error|Compiling mediad|Build" || true; }
mediad=$(swift build -c release --show-bin-path)/mediad

cat > "$work/pipelines/bench.yaml" <<'YAML'
name: bench
version: 1
match: {mediaTypes: [image]}
stages:
  - {stage: thumbnail, name: thumbnail, fit: short-side, size: 250, format: jpeg, quality: 80}
YAML

cpu() { awk '{printf "%.3f", $1 + $2}' "$1"; }
export VIPS_CONCURRENCY=1

# Same work on both sides: shrink-on-load, short side 250, colour-managed to sRGB, JPEG Q80, no metadata.
/usr/bin/time -f "%U %S %M %e" -o "$work/vips.time" \
  vipsthumbnail --size x250 --import-profile srgb --export-profile srgb -o "$work/vips-%s.jpg[Q=80,strip]" "$work"/in/*.jpg
/usr/bin/time -f "%U %S %M %e" -o "$work/mediad.time" \
  "$mediad" process "$work/in" --out "$work/out" --pipelines "$work/pipelines" --concurrency 1 >/dev/null
/usr/bin/time -f "%U %S %M %e" -o "$work/mediad-big.time" \
  "$mediad" process "$work/big" --out "$work/out-big" --pipelines "$work/pipelines" --concurrency 1 >/dev/null
/usr/bin/time -f "%U %S %M %e" -o "$work/vips-big.time" \
  vipsthumbnail --size x250 --import-profile srgb --export-profile srgb -o "$work/vips-%s.jpg[Q=80,strip]" "$work"/big/*.jpg

vips_cpu=$(cpu "$work/vips.time"); mediad_cpu=$(cpu "$work/mediad.time")
# Whole-process figures include mediad's start-up and pipeline loading; per image it is spread over N.
echo
printf "%-28s %12s %12s\n" "" "vipsthumbnail" "mediad"
printf "%-28s %12.3f %12.3f\n" "CPU s per 24 MP image" "$(echo "$vips_cpu / $N" | bc -l)" "$(echo "$mediad_cpu / $N" | bc -l)"
printf "%-28s %12s %12s\n" "peak RSS, 24 MP (MB)" "$(awk '{printf "%.0f", $3/1024}' "$work/vips.time")" "$(awk '{printf "%.0f", $3/1024}' "$work/mediad.time")"
printf "%-28s %12s %12s\n" "CPU s, 100 MP image" "$(cpu "$work/vips-big.time")" "$(cpu "$work/mediad-big.time")"
printf "%-28s %12s %12s\n" "peak RSS, 100 MP (MB)" "$(awk '{printf "%.0f", $3/1024}' "$work/vips-big.time")" "$(awk '{printf "%.0f", $3/1024}' "$work/mediad-big.time")"
echo
printf "ratio mediad / vipsthumbnail CPU (24 MP): %.3f  (target <= 1.15)\n" "$(echo "$mediad_cpu / $vips_cpu" | bc -l)"
printf "mediad peak RSS on 100 MP: %s MB  (target < 300)\n" "$(awk '{printf "%.0f", $3/1024}' "$work/mediad-big.time")"
identify_size() { ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$1"; }
echo "output sizes: vipsthumbnail $(identify_size "$(ls "$work"/vips-photo-1.jpg)"), mediad $(identify_size "$work/out/photo-1/thumbnail.jpg")"
