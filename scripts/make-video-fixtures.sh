#!/usr/bin/env bash
# Regenerates fixtures/video/: small clips for the Video module's tests (issue 3).
#
# Every clip is synthetic (ffmpeg's lavfi test sources), a few seconds long and small, so
# the whole folder stays well under 1 MB. Tests read their expected values (sizes, codecs,
# rotation, location, creation time) from the comments below; change both together.
#
# Needs: ffmpeg 5.1 with libx264, libx265, libvpx, libopus and zscale (Debian 12's build),
# and exiftool (to write the QuickTime display matrix, which ffmpeg 5.1 cannot set).
#
# Usage: scripts/make-video-fixtures.sh [output-dir]   (default: fixtures/video)
set -euo pipefail

out="${1:-$(cd "$(dirname "$0")/.." && pwd)/fixtures/video}"
mkdir -p "$out"
cd "$out"

ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
# Deterministic output: no encoder version strings, fixed creation time.
common=(-map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact)

# 1. h264-aac.mp4: the compatible case. H.264 High yuv420p 320x240 25 fps, AAC stereo 48 kHz,
#    2.0 s, moov before mdat (faststart), creation_time 2023-06-15T09:30:00Z.
#    Expected: transcode skipped (already compatible).
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=2" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=2" \
   "${common[@]}" -c:v libx264 -profile:v high -pix_fmt yuv420p -preset veryfast -crf 30 -g 25 \
   -c:a aac -b:a 64k -ac 2 -metadata creation_time=2023-06-15T09:30:00Z -movflags +faststart \
   h264-aac.mp4

# 2. h264-aac-moov-end.mp4: the same streams with the moov atom after mdat (no faststart).
#    Expected: remuxed to a fast-start MP4, not re-encoded.
ff -i h264-aac.mp4 -map 0 -c copy "${common[@]}" h264-aac-moov-end.mp4

# 2b. h264-aac.mkv: the same streams in Matroska. Expected: remuxed to MP4.
ff -i h264-aac.mp4 -map 0 -c copy "${common[@]}" h264-aac.mkv

# 3. phone-rotated.mov: a phone-style QuickTime file. Stored 480x270 H.264 High 30 fps,
#    AAC mono 44.1 kHz, 2.0 s; display matrix rotated 90° clockwise (portrait, 270x480 as
#    shown); ISO 6709 location +48.8584+002.2945+035.000/ (the Eiffel tower), creation date
#    2024-05-01T14:34:56+0200 (UTC 12:34:56), make Apple, model iPhone 15.
#    Expected: remuxed (H.264/AAC in the wrong container), display matrix kept.
ff -f lavfi -i "testsrc2=size=480x270:rate=30:duration=2" \
   -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=2" \
   "${common[@]}" -c:v libx264 -profile:v high -pix_fmt yuv420p -preset veryfast -crf 30 -g 30 \
   -c:a aac -b:a 48k -ac 1 -movflags use_metadata_tags \
   -metadata "com.apple.quicktime.location.ISO6709=+48.8584+002.2945+035.000/" \
   -metadata "com.apple.quicktime.make=Apple" -metadata "com.apple.quicktime.model=iPhone 15" \
   -metadata "com.apple.quicktime.creationdate=2024-05-01T14:34:56+0200" \
   -metadata creation_time=2024-05-01T12:34:56Z \
   phone-rotated.mov
exiftool -q -overwrite_original -Rotation=90 phone-rotated.mov

# 4. vp9-opus.webm: VP9 (profile 0) 320x180 24 fps + Opus stereo 48 kHz, 2.0 s.
#    Expected: re-encoded to H.264/AAC.
ff -f lavfi -i "testsrc2=size=320x180:rate=24:duration=2" \
   -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=2" \
   "${common[@]}" -c:v libvpx-vp9 -b:v 0 -crf 45 -deadline realtime -cpu-used 8 -g 24 \
   -c:a libopus -b:a 48k -ac 2 \
   vp9-opus.webm

# 5. hevc-10bit-pq.mp4: HDR10. HEVC Main 10, yuv420p10le 320x180 24 fps, BT.2020 primaries,
#    PQ (smpte2084) transfer, bt2020nc matrix, mastering display and content light level
#    SEI (1000 nits), plus AAC. The picture is testsrc2 converted to PQ with SDR white at
#    203 nits (ITU-R BT.2408), so a correct tone map looks like the SDR source and a naive
#    8-bit conversion looks grey and desaturated. 1.0 s.
#    Expected: always transcoded, tone-mapped to SDR BT.709 8-bit.
ff -f lavfi -i "testsrc2=size=320x180:rate=24:duration=1" \
   -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=1" \
   -vf "format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv,zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt2020,zscale=t=smpte2084:m=bt2020nc:r=tv:npl=203,format=yuv420p10le" \
   "${common[@]}" -c:v libx265 -preset ultrafast -tag:v hvc1 \
   -x265-params "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50):max-cll=1000,400" \
   -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc \
   -c:a aac -b:a 48k -ac 2 -movflags +faststart \
   hevc-10bit-pq.mp4

# 6. no-audio.mp4: MPEG-4 Part 2 video only, 320x240 25 fps, 2.0 s (an old camera's file).
#    Expected: re-encoded to H.264, no audio track.
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=2" \
   "${common[@]}" -c:v mpeg4 -q:v 8 -g 25 -movflags +faststart \
   no-audio.mp4

# 7. fade-in.mp4: 4.0 s, 320x240 25 fps, H.264 with one keyframe (GOP 250, no scene cuts),
#    black for the first 1.5 s, then testsrc2. The default poster position (10 % = 0.4 s)
#    falls in the black part: the poster must still show the picture.
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=4" \
   "${common[@]}" -vf "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='lt(t,1.5)'" \
   -c:v libx264 -pix_fmt yuv420p -preset veryfast -crf 32 -g 250 -x264-params scenecut=0 \
   -movflags +faststart fade-in.mp4

# 8. audio-only.m4a: AAC stereo 44.1 kHz, 2.0 s, M4A brand (sniffed as audio).
#    Expected: metadata only; poster and transcode skipped with warnings.
ff -f lavfi -i "sine=frequency=523:sample_rate=44100:duration=2" \
   "${common[@]}" -c:a aac -b:a 64k -ac 2 -f ipod -movflags +faststart audio-only.m4a

# 9. no-video.mp4: AAC audio in an MP4 with an `isom` brand: sniffed as video, has no
#    video stream. Expected: poster and transcode fail with no_usable_stream.
ff -f lavfi -i "sine=frequency=523:sample_rate=44100:duration=2" \
   "${common[@]}" -c:a aac -b:a 64k -ac 1 -f mp4 -movflags +faststart no-video.mp4

# 10. truncated.mp4: the first 60 % of h264-aac.mp4 (an interrupted upload; the moov atom
#     is intact, the media data is cut). Expected: truncated_file.
size=$(stat -c %s h264-aac.mp4)
head -c $((size * 60 / 100)) h264-aac.mp4 > truncated.mp4

# 11. hls-playlist.mp4 + hls-segment.ts: an HLS playlist renamed .mp4, pointing at a real
#     local segment. An unrestricted demuxer follows it (`ffprobe hls-playlist.mp4` finds the
#     segment's H.264 stream); mediad must not: the demuxer is pinned to what was sniffed
#     and format_whitelist excludes hls. Expected: corrupt_file, nothing else read.
ff -f lavfi -i "testsrc2=size=64x48:rate=10:duration=1" \
   "${common[@]}" -c:v libx264 -preset ultrafast -f mpegts hls-segment.ts
cat > hls-playlist.mp4 <<'M3U'
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:1.0,
hls-segment.ts
#EXT-X-ENDLIST
M3U

ls -l "$out"
du -sh "$out"
