#!/usr/bin/env bash
# Image pipeline speed (issue 13): mediad against in-process libvips (pyvips), vipsthumbnail and
# thumbor on the same generated photos, in one run, printing every ratio.
#
#   T1  the default image pipeline (checksums, EXIF, 250-px WebP, 1440-px JPEG Q80, ThumbHash)
#       per image, against one libvips render of its largest output (short side 1440, JPEG Q80,
#       optimised Huffman tables, stripped): 24 MP JPEG, 12 MP HEIC (heif-enc), 20 MP PNG.
#       Target <= 1.10.
#   T2  2560x1707 JPEG -> fit 512x512 JPEG Q80: mediad's thumbnail stage against pyvips'
#       Image.thumbnail and thumbor 7.8 (a real server, Pillow engine, file loader, no storage,
#       baseline JPEG like the others; its process's CPU over the requests, warm-up excluded).
#       Target <= 1.0 both; SSIM against a full-resolution Lanczos resize no more than 0.005
#       below pyvips'; output sizes printed.
#   T4  `mediad process` on a one-line text file: wall and peak RSS. Target <= 60 ms, <= 40 MB.
#   and the non-regression figures: peak RSS on a 100 MP JPEG (README: 92 MB), and
#   scripts/bench-video.sh on a 30 s clip (transcode ratio 0.99-1.005, poster 55 ms).
#
# Usage: scripts/bench-image-speed.sh [--mediad PATH] [--quick] [--no-video]
#   REPEAT=3 rounds per figure (median), N=6 24 MP JPEGs, M=30 T2 photos.
# Python packages (pyvips, thumbor, scikit-image) go to a venv of their own:
#   MEDIAD_BENCH_VENV (default ~/.cache/mediad-bench-venv).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
mediad="${MEDIAD:-}"
video=1
N=${N:-6} M=${M:-30} REPEAT=${REPEAT:-3}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --mediad) mediad="$2"; shift ;;
        --quick) N=3 M=12 REPEAT=1 ;;
        --no-video) video=0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

"$root/scripts/setup.sh" --test >/dev/null
command -v heif-enc >/dev/null || { echo "bench: installing heif-enc (libheif-examples)"; apt-get install -y -qq libheif-examples >/dev/null; }
venv="${MEDIAD_BENCH_VENV:-$HOME/.cache/mediad-bench-venv}"
if ! "$venv/bin/python" -c "import pyvips, skimage, thumbor" 2>/dev/null; then
    echo "bench: installing pyvips, scikit-image and thumbor 7.8 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pyvips scikit-image "thumbor==7.8.0"
fi
py="$venv/bin/python"

if [[ -z "$mediad" ]]; then
    (cd "$root" && swift build -c release 2>&1 | grep -E "error|warning: unre" || true)
    mediad="$root/.build/release/mediad"
fi
[[ -x "$mediad" ]] || { echo "no mediad binary at $mediad" >&2; exit 2; }

work="$(mktemp -d /tmp/mediad-bench-image-speed.XXXXXX)"
thumbor_pid=""
cleanup() { [[ -n "$thumbor_pid" ]] && kill "$thumbor_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/jpeg" "$work/heic" "$work/png" "$work/t2" "$work/big" "$work/p-default" "$work/p-t2"
export VIPS_CONCURRENCY=1   # one libvips thread per image on every side (mediad's own setting)

# Inputs are generated once and kept (they take minutes on 2 cores): MEDIAD_BENCH_INPUTS.
inputs="${MEDIAD_BENCH_INPUTS:-$HOME/.cache/mediad-bench-image-inputs}"
mkdir -p "$inputs/jpeg" "$inputs/heic" "$inputs/png" "$inputs/t2" "$inputs/big"
make() { [[ -s "$2" ]] || ffmpeg -v error -y -f lavfi -i "$1" -frames:v 1 "${@:3}" "$2"; }
echo "bench: making photos in $inputs unless there (testsrc2 with noise: photo-like entropy)"
for i in $(seq 1 "$N"); do make "testsrc2=size=6000x4000,noise=alls=20:allf=t,hue=H=$i" "$inputs/jpeg/photo-$i.jpg" -q:v 3; done
for i in 1 2 3; do
    make "testsrc2=size=5472x3648,noise=alls=20:allf=t,hue=H=$i" "$inputs/png/photo-$i.png"
    make "testsrc2=size=4032x3024,noise=alls=12:allf=t,hue=H=$i" "$inputs/phone-$i.png"
    [[ -s "$inputs/heic/phone-$i.heic" ]] || heif-enc -q 60 -p preset=fast -o "$inputs/heic/phone-$i.heic" "$inputs/phone-$i.png" >/dev/null
done
for i in $(seq 1 "$M"); do make "testsrc2=size=2560x1707,noise=alls=20:allf=t,hue=H=$i" "$inputs/t2/photo-$i.jpg" -q:v 3; done
make "testsrc2=size=12240x8160,noise=alls=18:allf=t" "$inputs/big/pano-100mp.jpg" -q:v 3
make "testsrc2=size=64x64" "$work/tiny.jpg"
# Each run takes the first N / M files.
for kind in jpeg t2; do
    count=$N; [[ $kind == t2 ]] && count=$M
    ls "$inputs/$kind" | sort -V | head -n "$count" | while read -r f; do ln -s "$inputs/$kind/$f" "$work/$kind/$f"; done
done
for kind in heic png big; do ln -s "$inputs/$kind/"* "$work/$kind/"; done
echo "just one line" > "$work/note.txt"

cp "$root/pipelines/image.yaml" "$work/p-default/"
cat > "$work/p-t2/t2.yaml" <<'YAML'
name: t2
version: 1
match: {mediaTypes: [image]}
stages:
  - {stage: thumbnail, name: thumbnail, fit: inside, width: 512, height: 512, format: jpeg, quality: 80}
YAML

echo "bench: starting thumbor 7.8 on 127.0.0.1"
port=$("$py" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
cat > "$work/thumbor.conf" <<CONF
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = '$inputs/t2'
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ENGINE = 'thumbor.engines.pil'
QUALITY = 80
PROGRESSIVE_JPEG = False
CONF
"$venv/bin/thumbor" --ip 127.0.0.1 --port "$port" --conf "$work/thumbor.conf" -l error > "$work/thumbor.log" 2>&1 &
thumbor_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthcheck" >/dev/null 2>&1 && break
    sleep 0.1
done

bench() { "$py" "$root/scripts/bench-image-speed.py" "$@" --mediad "$mediad" --work "$work" --tiny "$work/tiny.jpg"; }
echo "bench: mediad $mediad; $(nproc) cores; VIPS_CONCURRENCY=1; median of $REPEAT rounds"
{
    bench t1 --label "24 MP JPEG" --inputs "$work/jpeg" --pipelines "$work/p-default" --repeat "$REPEAT" --ssim
    bench t1 --label "12 MP HEIC" --inputs "$work/heic" --pipelines "$work/p-default" --repeat "$REPEAT"
    bench t1 --label "20 MP PNG" --inputs "$work/png" --pipelines "$work/p-default" --repeat "$REPEAT"
    bench t2 --inputs "$work/t2" --pipelines "$work/p-t2" --repeat "$REPEAT" --thumbor-port "$port" --thumbor-pid "$thumbor_pid"
    bench t4 --text "$work/note.txt" --repeat 15
} > "$work/results.jsonl"

# 100 MP JPEG, the default pipeline: peak RSS (README: 92 MB for the thumbnail stage alone).
rm -rf "$work/out-big"
/usr/bin/time -f "%M" -o "$work/big.rss" "$mediad" process "$work/big/pano-100mp.jpg" --out "$work/out-big" --pipelines "$work/p-default" --concurrency 1 >/dev/null
cat > "$work/p-big.yaml" <<'YAML'
name: bench
version: 1
match: {mediaTypes: [image]}
stages:
  - {stage: thumbnail, name: thumbnail, fit: short-side, size: 250, format: jpeg, quality: 80}
YAML
mkdir -p "$work/p-big" && mv "$work/p-big.yaml" "$work/p-big/"
/usr/bin/time -f "%M" -o "$work/big-thumb.rss" "$mediad" process "$work/big/pano-100mp.jpg" --out "$work/out-big-thumb" --pipelines "$work/p-big" --concurrency 1 >/dev/null

"$py" - "$work/results.jsonl" "$(cat "$work/big.rss")" "$(cat "$work/big-thumb.rss")" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print()
print("T1: default image pipeline per image vs one libvips render of its largest output (CPU s per image)")
print(f'{"":12} {"mediad":>8} {"pyvips":>8} {"ratio":>7}   {"vipsthumbnail":>13} {"ratio":>6}   preview    bytes mediad/pyvips   RSS')
for r in rows:
    if r["label"] in ("T2", "T4"):
        continue
    verdict = "ok" if r["ratio"] <= 1.10 else "MISSED"
    extra = f'   SSIM vs Lanczos: mediad {r["ssim_mediad"]:.4f}, pyvips {r["ssim_pyvips"]:.4f}' if "ssim_mediad" in r else ""
    print(f'{r["label"]:12} {r["mediad"]:8.3f} {r["pyvips"]:8.3f} {r["ratio"]:7.3f}   {r["vipsthumbnail"]:13.3f} {r["ratio_vipsthumbnail"]:6.3f}   '
          f'{r["preview"]:10} {r["bytes_mediad"]:>8}/{r["bytes_pyvips"]:<8}  {r["rss"]:.0f} MB  (target <= 1.10: {verdict}){extra}')
t2 = next(r for r in rows if r["label"] == "T2")
print()
print(f'T2: {t2["files"]} x 2560x1707 JPEG -> fit 512x512 ({t2["size"]}), JPEG Q80, CPU ms per image')
print(f'  mediad {t2["mediad"] * 1000:.1f}   pyvips {t2["pyvips"] * 1000:.1f}   thumbor {t2["thumbor"] * 1000:.1f}')
print(f'  ratio mediad/pyvips {t2["ratio_pyvips"]:.3f} ({"ok" if t2["ratio_pyvips"] <= 1.0 else "MISSED"}), '
      f'mediad/thumbor {t2["ratio_thumbor"]:.3f} ({"ok" if t2["ratio_thumbor"] <= 1.0 else "MISSED"})  (target <= 1.0)')
s = t2["ssim"]
print(f'  SSIM vs full-resolution Lanczos ({t2["ssim_files"]} images): mediad {s["mediad"]:.4f}, pyvips {s["pyvips"]:.4f}, thumbor {s["thumbor"]:.4f}; '
      f'mediad - pyvips {s["mediad"] - s["pyvips"]:+.4f} ({"ok" if s["mediad"] >= s["pyvips"] - 0.005 else "MISSED"}; target >= -0.005)')
b = t2["bytes"]
print(f'  mean output bytes: mediad {b["mediad"]:.0f}, pyvips {b["pyvips"]:.0f}, thumbor {b["thumbor"]:.0f}')
t4 = next(r for r in rows if r["label"] == "T4")
print()
print(f'T4: mediad process on a one-line text file: {t4["wall_ms"]:.0f} ms wall (median of {t4["runs"]}, min {t4["wall_ms_min"]:.0f}), '
      f'{t4["rss_mb"]:.0f} MB peak RSS  (target <= 60 ms: {"ok" if t4["wall_ms"] <= 60 else "MISSED"}, <= 40 MB: {"ok" if t4["rss_mb"] <= 40 else "MISSED"})')
print()
print(f'memory: 100 MP JPEG peak RSS: default pipeline {int(sys.argv[2]) / 1024:.0f} MB, thumbnail stage alone {int(sys.argv[3]) / 1024:.0f} MB (README: 92 MB)')
PY

if [[ $video -eq 1 ]]; then
    echo
    echo "video (non-regression; README: transcode CPU ratio 0.997-1.005, poster 55 ms):"
    "$root/scripts/bench-video.sh" --durations 30 --mediad "$mediad" | tail -n 6
fi
