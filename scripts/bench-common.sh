# Sourced by the benchmark scripts: what they all start with.

# Installs what is missing and builds the release binary; sets $mediad.
bench_build() {
  scripts/setup.sh --test >/dev/null
  echo "bench: building mediad (release)"
  swift build -c release --product mediad 2>&1 | { grep -E "error|Build" || true; }
  mediad=$(swift build -c release --show-bin-path)/mediad
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
