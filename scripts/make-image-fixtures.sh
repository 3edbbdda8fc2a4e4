#!/usr/bin/env bash
# Regenerates fixtures/images/: small real images whose expected results the tests assert.
# Needs: ffmpeg, libvips-tools (vips), libimage-exiftool-perl (exiftool), python3 + numpy.
# Every value written here (EXIF tags, GPS, colours, sizes) is checked in Tests/ImagingTests.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/images
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { "$@" >/dev/null 2>&1; }

# A detailed "photo": a Mandelbrot render, 1200x800.
q ffmpeg -y -f lavfi -i "mandelbrot=size=1200x800:start_scale=2.5:end_scale=2.5" -frames:v 1 -q:v 3 "$tmp/photo.jpg"

# Rich EXIF: camera, lens, capture settings, time with offset, GPS north/east.
cp "$tmp/photo.jpg" "$out/exif-rich.jpg"
q exiftool -overwrite_original \
  -Make=Canon -Model="Canon EOS R5" -LensMake=Canon -LensModel="RF24-105mm F4 L IS USM" \
  -DateTimeOriginal="2023:07:14 18:42:07" -SubSecTimeOriginal=25 -OffsetTimeOriginal="+02:00" \
  -ExposureTime=1/250 -FNumber=5.6 -ISO=200 -FocalLength=50 \
  -GPSLatitude=48.8583701 -GPSLatitudeRef=N -GPSLongitude=2.2944813 -GPSLongitudeRef=E \
  -GPSAltitude=35.5 -GPSAltitudeRef#=0 -Orientation#=1 \
  "$out/exif-rich.jpg"

# GPS south/west and below sea level, no time offset, a different camera.
q ffmpeg -y -f lavfi -i "testsrc2=size=640x480" -frames:v 1 -q:v 4 "$out/gps-south-west.jpg"
q exiftool -overwrite_original -Make=Apple -Model="iPhone 15 Pro" -DateTimeOriginal="2024:01:02 03:04:05" \
  -GPSLatitude=22.9519 -GPSLatitudeRef=S -GPSLongitude=43.2105 -GPSLongitudeRef=W \
  -GPSAltitude=12 -GPSAltitudeRef#=1 -ExposureTime=1/60 -FNumber=1.8 -ISO=640 -FocalLength=6.9 \
  "$out/gps-south-west.jpg"

# Orientation 1-8. The displayed picture is 300x200 with a red square top-left and a green
# one top-right; each file stores the pixels transformed so that applying its EXIF
# orientation gives the displayed picture back.
q ffmpeg -y -f lavfi -i "color=c=gray:s=300x200,format=rgb24,drawbox=x=0:y=0:w=60:h=60:color=red:t=fill,drawbox=x=240:y=0:w=60:h=60:color=lime:t=fill" \
  -frames:v 1 "$tmp/display.png"
inverse=( "" "null" "hflip" "hflip,vflip" "vflip" "transpose=0" "transpose=2" "transpose=3" "transpose=1" )
for n in 1 2 3 4 5 6 7 8; do
  q ffmpeg -y -i "$tmp/display.png" -vf "${inverse[$n]}" -q:v 2 "$out/orientation-$n.jpg"
  q exiftool -overwrite_original -Orientation#=$n "$out/orientation-$n.jpg"
done

# The same photo in other containers; libvips carries the EXIF block across.
vips copy "$out/exif-rich.jpg" "$out/photo.webp[Q=80]"
vips copy "$out/exif-rich.jpg" "$out/photo.tiff[compression=jpeg,Q=80]"
# libvips' TIFF writer drops EXIF; copy the tags in as a camera would have written them.
q exiftool -overwrite_original -TagsFromFile "$out/exif-rich.jpg" -all:all "$out/photo.tiff"
vips copy "$out/exif-rich.jpg" "$out/photo.heic[Q=60,compression=hevc]"
vips copy "$out/exif-rich.jpg" "$out/photo.avif[Q=60,compression=av1]"
vips resize "$out/exif-rich.jpg" "$tmp/half.v" 0.5
# PNG keeps EXIF in an eXIf chunk before the image data, as phones and editors write it.
vips copy "$tmp/half.v" "$out/photo-exif.png[strip]"
q exiftool -overwrite_original -TagsFromFile "$out/exif-rich.jpg" -exif:all "$out/photo-exif.png"

# Animated GIF: 6 frames of a moving test pattern; the first frame is the still.
q ffmpeg -y -f lavfi -i "testsrc=size=160x120:rate=6" -t 1 "$out/animated.gif"

# Colour: CMYK JPEG (with libvips' CMYK profile embedded) and a Display P3 image of pure
# sRGB red, green and blue patches (encoded in P3, so the numbers differ from sRGB).
vips icc_transform "$tmp/half.v" "$tmp/cmyk.v" cmyk --embedded
vips copy "$tmp/cmyk.v" "$out/cmyk.jpg[Q=85]"
q ffmpeg -y -f lavfi -i "color=c=red:s=100x100,format=rgb24" -f lavfi -i "color=c=lime:s=100x100,format=rgb24" -f lavfi -i "color=c=blue:s=100x100,format=rgb24" \
  -filter_complex "[0][1][2]hstack=inputs=3" -frames:v 1 "$tmp/patches.png"
vips icc_transform "$tmp/patches.png" "$tmp/p3.v" p3 --input-profile srgb
vips copy "$tmp/p3.v" "$out/display-p3.png"

# A wide panorama under the pixel cap: 12000x1500 (18 MP) of smooth gradient.
q ffmpeg -y -f lavfi -i "gradients=size=12000x1500:seed=7" -frames:v 1 -q:v 6 "$out/panorama.jpg"

# Exact-pixel PNGs and decompression bombs.
python3 scripts/fixtures/craft.py "$out"

# Hostile files.
head -c $(( $(stat -c %s "$out/exif-rich.jpg") * 6 / 10 )) "$out/exif-rich.jpg" > "$out/truncated.jpg"
: > "$out/empty.jpg"
printf 'This is a text file that someone named .jpg\nIt has no image in it at all.\n' > "$out/text.jpg"
printf '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/></svg>\n' > "$out/vector.svg"

du -sh "$out"
