#!/usr/bin/env bash
# Benchmarks mediad's video transcode against the ffmpeg program at identical settings, in
# one run, on clips generated here (not committed): a 30 s and a 120 s 1080p H.264 + Opus
# MKV (so both sides decode, scale to 720p, encode H.264 and AAC, and write a fast-start MP4).
#
# Prints wall and CPU time for both and their ratio, and peak RSS (GNU time -v); then the
# time of mediad's poster stage on the 1080p clip.
# Targets (issue 3): mediad within 1.05x of ffmpeg; mediad's peak RSS about the same for
# 30 s and 120 s; poster under 0.3 s.
#
# Usage: scripts/bench-video.sh [--keep] [--durations "30 120"] [--mediad PATH]
#   MEDIAD=path overrides the binary (default: build with `swift build -c release`).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
durations="30 120"
keep=0
mediad="${MEDIAD:-}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep) keep=1 ;;
        --durations) durations="$2"; shift ;;
        --mediad) mediad="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

for tool in ffmpeg ffprobe /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done
if [[ -z "$mediad" ]]; then
    (cd "$root" && swift build -c release >/dev/null)
    mediad="$root/.build/release/mediad"
fi
[[ -x "$mediad" ]] || { echo "no mediad binary at $mediad" >&2; exit 2; }

work="$(mktemp -d /tmp/mediad-bench-video.XXXXXX)"
cleanup() { if [[ $keep -eq 0 ]]; then rm -rf "$work"; else echo "kept $work"; fi; }
trap cleanup EXIT

# The settings both sides use: the shipped video pipeline's transcode stage.
crf=23 preset=veryfast short_side=720 audio_bitrate=128k

# Bench-only pipelines, one per directory (each directory is a pipeline set).
mkdir -p "$work/pipelines-transcode" "$work/pipelines-poster"
cat > "$work/pipelines-transcode/bench.yaml" <<YAML
name: bench-transcode
version: 1
match:
  mediaTypes: [video]
limits:
  maxBytes: 16GiB
  maxPixels: 35389440
  maxDuration: 3h
  timeout: 1h
stages:
  - stage: transcode
    name: transcode
    videoCodec: h264
    audioCodec: aac
    maxShortSide: $short_side
    crf: $crf
    preset: $preset
    audioBitrate: $audio_bitrate
    audioChannels: 2
YAML
cat > "$work/pipelines-poster/bench.yaml" <<YAML
name: bench-poster
version: 1
match:
  mediaTypes: [video]
limits:
  maxBytes: 16GiB
  timeout: 10m
stages:
  - stage: poster
    name: poster
    position: 0.1
    maxOffset: 5s
    candidates: 5
    format: jpeg
    quality: 85
    maxSize: 1920
YAML

# "label wall cpu rss" from GNU time's -v report.
measure() {
    local label="$1" report="$2"
    python3 - "$label" "$report" <<'PY'
import re, sys
label, path = sys.argv[1], sys.argv[2]
text = open(path).read()
def field(name):
    return re.search(re.escape(name) + r":\s*(.+)", text).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)"))
status = field("Exit status")
print(f"{label} {seconds:.2f} {cpu:.2f} {rss} {status}")
PY
}

echo "mediad: $mediad"
echo "ffmpeg: $(ffmpeg -version | head -1)"
echo "machine: $(nproc) cores; settings: 1080p -> ${short_side}p, libx264 $preset CRF $crf High, AAC $audio_bitrate stereo, faststart"
echo

results=()
for seconds in $durations; do
    clip="$work/clip-${seconds}s.mkv"
    echo "generating ${seconds} s 1080p test clip..."
    # testsrc2 with temporal noise (so x264 has real work, like camera footage), Opus audio.
    ffmpeg -hide_banner -loglevel error -nostdin -y \
        -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=${seconds},noise=alls=6:allf=t" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=${seconds}" \
        -c:v libx264 -preset ultrafast -crf 18 -g 60 -pix_fmt yuv420p -c:a libopus -b:a 96k -ac 2 "$clip"

    # ffmpeg at the same settings: scale so the short side is 720 (bicubic, as mediad), H.264
    # High yuv420p, AAC stereo, fast start. Threads: auto on both sides.
    /usr/bin/time -v -o "$work/ffmpeg-${seconds}.time" \
        ffmpeg -hide_banner -loglevel error -nostdin -y -i "$clip" -map 0:v:0 -map 0:a:0 \
        -vf "scale=w=-2:h=${short_side}:flags=bicubic,format=yuv420p,setsar=1" \
        -c:v libx264 -preset "$preset" -crf "$crf" -profile:v high \
        -c:a aac -b:a "$audio_bitrate" -ac 2 -movflags +faststart "$work/ffmpeg-${seconds}.mp4"

    rm -rf "$work/out-${seconds}"
    /usr/bin/time -v -o "$work/mediad-${seconds}.time" \
        "$mediad" process "$clip" --out "$work/out-${seconds}" --pipelines "$work/pipelines-transcode" \
        --pipeline bench-transcode --json > "$work/mediad-${seconds}.json"
    produced="$(find "$work/out-${seconds}" -name 'transcode.mp4' | head -1)"
    [[ -n "$produced" ]] || { echo "mediad produced no transcode:" >&2; cat "$work/mediad-${seconds}.json" >&2; exit 1; }

    ff="$(measure ffmpeg "$work/ffmpeg-${seconds}.time")"
    md="$(measure mediad "$work/mediad-${seconds}.time")"
    results+=("$seconds|$ff|$md|$work/ffmpeg-${seconds}.mp4|$produced")
done

echo
python3 - "${results[@]}" <<'PY'
import json, subprocess, sys
def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration,size:stream=codec_name,width,height",
                          "-of", "json", path], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    v = next(s for s in data["streams"] if "width" in s)
    return f'{v["width"]}x{v["height"]} {float(data["format"]["duration"]):.2f}s {int(data["format"]["size"]) / 1e6:.1f}MB'
print(f'{"clip":>6} {"tool":<7} {"wall s":>8} {"cpu s":>8} {"peak RSS":>10}  output')
rss = {}
for entry in sys.argv[1:]:
    seconds, ff, md, ffout, mdout = entry.split("|")
    rows = {}
    for line, path in ((ff, ffout), (md, mdout)):
        tool, wall, cpu, kb, status = line.split()
        rows[tool] = (float(wall), float(cpu), int(kb))
        print(f'{seconds + " s":>6} {tool:<7} {float(wall):8.2f} {float(cpu):8.2f} {int(kb) / 1024:8.1f}MB  {probe(path)}{"" if status == "0" else "  exit " + status}')
    rw = rows["mediad"][0] / rows["ffmpeg"][0]
    rc = rows["mediad"][1] / rows["ffmpeg"][1]
    verdict = "ok" if rw <= 1.05 else "SLOWER than target"
    print(f'{"":>6} ratio   {rw:8.3f} {rc:8.3f}  (mediad / ffmpeg; target <= 1.05: {verdict})')
    rss[int(seconds)] = rows["mediad"][2]
if len(rss) >= 2:
    short, long = min(rss), max(rss)
    print(f'mediad peak RSS {short} s -> {long} s: {rss[short] / 1024:.1f} MB -> {rss[long] / 1024:.1f} MB ({rss[long] / rss[short]:.2f}x; flat is ~1.0x)')
PY

# Poster: mediad's own stage timing (from the manifest) on the longest 1080p clip.
longest="${durations##* }"
clip="$work/clip-${longest}s.mkv"
rm -rf "$work/out-poster"
/usr/bin/time -v -o "$work/poster.time" \
    "$mediad" process "$clip" --out "$work/out-poster" --pipelines "$work/pipelines-poster" \
    --pipeline bench-poster --json > "$work/poster.json"
python3 - "$work/poster.json" "$(measure mediad "$work/poster.time")" <<'PY'
import json, sys
manifest = json.loads(open(sys.argv[1]).read().splitlines()[0])
timings = manifest.get("timings", {})
poster = timings.get("poster")
_, wall, cpu, kb, _ = sys.argv[2].split()
derivative = next((d for d in manifest.get("derivatives", []) if d.get("kind") == "poster"), {})
size = f'{derivative.get("width")}x{derivative.get("height")}' if derivative else "none"
errors = manifest.get("errors") or []
print(f'poster (1080p): stage {poster:.0f} ms + inspect {timings.get("inspect", 0):.0f} ms; whole process {float(wall):.2f} s wall, '
      f'{int(kb) / 1024:.1f} MB peak RSS; poster {size}; target stage < 300 ms: {"ok" if poster is not None and poster < 300 else "MISSED"}'
      + (f"; errors {errors}" if errors else ""))
PY
