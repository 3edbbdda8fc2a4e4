#!/usr/bin/env python3
"""The measuring half of scripts/bench-image-speed.sh (which makes the inputs and the venv).

Every figure is CPU time (user + system) per image. mediad's comes from whole `mediad process`
runs over many files, minus a run over one tiny image with the same pipeline (start-up, pipeline
loading and libvips' own start-up); pyvips' from time.process_time() around its calls, in this
process, after a warm-up; thumbor's from its server process's CPU counters (/proc) around the
requests, after warm-up requests. Both sides run in the same invocation, interleaved, and each
figure is the median of --repeat rounds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request


def run(cmd, **kwargs):
    """Runs a command; returns (wall s, cpu s, peak RSS MB) of that child alone (wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # mediad exits 1 when a file failed: checked from the manifests
        sys.exit(f"{cmd[0]} failed ({code}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def mediad_per_image(mediad, files, tiny, pipelines, out):
    """CPU s per image of `mediad process` over `files`, start-up subtracted."""
    subprocess.run(["rm", "-rf", out], check=True)
    _, cpu, rss = run([mediad, "process", *files, "--out", out, "--pipelines", pipelines, "--concurrency", "1"])
    subprocess.run(["rm", "-rf", out + "-tiny"], check=True)
    _, base, _ = run([mediad, "process", tiny, "--out", out + "-tiny", "--pipelines", pipelines, "--concurrency", "1"])
    for name in os.listdir(out):
        manifest = json.load(open(os.path.join(out, name, "manifest.json")))
        if manifest["status"] != "succeeded":
            sys.exit(f"mediad failed on {name}: {manifest.get('errors')}")
    return (cpu - base) / len(files), rss


def pyvips_per_image(files, work, width, height, fmt_options):
    import pyvips
    times = []
    for index, path in enumerate(files):
        target = os.path.join(work, f"pyvips-{index}.jpg")
        started = time.process_time()
        image = pyvips.Image.thumbnail(path, width, height=height, size="down")
        image.jpegsave(target, **fmt_options)
        times.append(time.process_time() - started)
    return sum(times) / len(times)


def thumbor_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def thumbor_per_image(port, pid, names, work, box):
    times_before = thumbor_cpu(pid)
    sizes = []
    for index, name in enumerate(names):
        url = f"http://127.0.0.1:{port}/unsafe/fit-in/{box}x{box}/{name}"
        data = urllib.request.urlopen(url, timeout=60).read()
        with open(os.path.join(work, f"thumbor-{index}.jpg"), "wb") as f:
            f.write(data)
        sizes.append(len(data))
    return (thumbor_cpu(pid) - times_before) / len(names), sizes


def ssim_against_lanczos(source, candidates):
    """SSIM of each candidate against a full-resolution Lanczos resize of `source` to its size."""
    import numpy
    from PIL import Image
    from skimage.metrics import structural_similarity
    full = Image.open(source).convert("RGB")
    scores = []
    for candidate in candidates:
        image = Image.open(candidate).convert("RGB")
        reference = numpy.asarray(full.resize(image.size, Image.LANCZOS))
        scores.append(structural_similarity(reference, numpy.asarray(image), channel_axis=2, data_range=255))
    return scores


def output(out_dir, name, derivative):
    return next(os.path.join(out_dir, name, f) for f in os.listdir(os.path.join(out_dir, name)) if f.startswith(derivative + "."))


def t1(args):
    """Default pipeline vs one libvips render of its largest output (short side 1440, JPEG Q80)."""
    import pyvips
    pyvips.cache_set_max(0)
    files = sorted(os.path.join(args.inputs, f) for f in os.listdir(args.inputs))
    pyvips_per_image(files[:1], args.work, 10_000_000, 1440, {})  # warm-up
    jpeg = {"Q": 80, "optimize_coding": True, "strip": True}
    rounds = []
    for _ in range(args.repeat):
        md, rss = mediad_per_image(args.mediad, files, args.tiny, args.pipelines, os.path.join(args.work, "t1-out"))
        # The same call vipsthumbnail makes, in process: shrink-on-load, short side 1440, JPEG Q80.
        pv = pyvips_per_image(files, args.work, 10_000_000, 1440, jpeg)
        rounds.append((md, pv, rss))
    md = statistics.median(r[0] for r in rounds)
    pv = statistics.median(r[1] for r in rounds)
    _, vt_cpu, _ = run(["vipsthumbnail", "--size", "x1440", "-o", os.path.join(args.work, "vt-%s.jpg[Q=80,optimize_coding,strip]"), *files])
    preview = output(os.path.join(args.work, "t1-out"), os.path.splitext(os.path.basename(files[0]))[0], "preview")
    size = pyvips.Image.new_from_file(preview)
    ours = os.path.getsize(preview)
    theirs = os.path.getsize(os.path.join(args.work, "pyvips-0.jpg"))
    line = {"label": args.label, "files": len(files), "mediad": md, "pyvips": pv, "vipsthumbnail": vt_cpu / len(files),
            "ratio": md / pv, "ratio_vipsthumbnail": md / (vt_cpu / len(files)), "rss": max(r[2] for r in rounds),
            "preview": f"{size.width}x{size.height}", "bytes_mediad": ours, "bytes_pyvips": theirs}
    if args.ssim and files[0].endswith(".jpg"):
        ssim = ssim_against_lanczos(files[0], [preview, os.path.join(args.work, "pyvips-0.jpg")])
        line["ssim_mediad"], line["ssim_pyvips"] = ssim
    print(json.dumps(line))


def t2(args):
    """2560x1707 -> fit 512x512: mediad's thumbnail stage, pyvips' thumbnail, thumbor."""
    import pyvips
    pyvips.cache_set_max(0)
    files = sorted(os.path.join(args.inputs, f) for f in os.listdir(args.inputs))
    names = [os.path.basename(f) for f in files]
    jpeg = {"Q": 80, "optimize_coding": True, "strip": True}
    pyvips_per_image(files[:2], args.work, 512, 512, jpeg)  # warm-up
    for name in names[:3]:
        urllib.request.urlopen(f"http://127.0.0.1:{args.thumbor_port}/unsafe/fit-in/512x512/{name}", timeout=60).read()
    rounds = []
    for _ in range(args.repeat):
        md, _ = mediad_per_image(args.mediad, files, args.tiny, args.pipelines, os.path.join(args.work, "t2-out"))
        pv = pyvips_per_image(files, args.work, 512, 512, jpeg)
        th, thumbor_sizes = thumbor_per_image(args.thumbor_port, args.thumbor_pid, names, args.work, 512)
        rounds.append((md, pv, th))
    md, pv, th = (statistics.median(r[i] for r in rounds) for i in range(3))
    out = os.path.join(args.work, "t2-out")
    ours = [output(out, os.path.splitext(n)[0], "thumbnail") for n in names]
    pyv = [os.path.join(args.work, f"pyvips-{i}.jpg") for i in range(len(files))]
    thb = [os.path.join(args.work, f"thumbor-{i}.jpg") for i in range(len(files))]
    sample = range(0, len(files), max(1, len(files) // args.ssim_files))
    scores = {"mediad": [], "pyvips": [], "thumbor": []}
    for i in sample:
        s = ssim_against_lanczos(files[i], [ours[i], pyv[i], thb[i]])
        for key, value in zip(scores, s):
            scores[key].append(value)
    first = pyvips.Image.new_from_file(ours[0])
    print(json.dumps({
        "label": "T2", "files": len(files), "mediad": md, "pyvips": pv, "thumbor": th,
        "ratio_pyvips": md / pv, "ratio_thumbor": md / th, "size": f"{first.width}x{first.height}",
        "bytes": {"mediad": statistics.mean(os.path.getsize(f) for f in ours),
                  "pyvips": statistics.mean(os.path.getsize(f) for f in pyv),
                  "thumbor": statistics.mean(os.path.getsize(f) for f in thb)},
        "ssim": {k: statistics.mean(v) for k, v in scores.items()},
        "ssim_files": len(scores["mediad"]),
    }))


def t4(args):
    """`mediad process` on a one-line text file: wall and peak RSS, median of runs."""
    walls, rsses = [], []
    for index in range(args.repeat):
        out = os.path.join(args.work, f"t4-out-{index}")
        wall, _, rss = run([args.mediad, "process", args.text, "--out", out])
        walls.append(wall)
        rsses.append(rss)
    print(json.dumps({"label": "T4", "wall_ms": statistics.median(walls) * 1000, "rss_mb": statistics.median(rsses),
                      "wall_ms_min": min(walls) * 1000, "runs": len(walls)}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["t1", "t2", "t4"])
    parser.add_argument("--mediad", required=True)
    parser.add_argument("--inputs")
    parser.add_argument("--tiny")
    parser.add_argument("--text")
    parser.add_argument("--pipelines")
    parser.add_argument("--work", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ssim", action="store_true")
    parser.add_argument("--ssim-files", type=int, default=6)
    parser.add_argument("--thumbor-port", type=int)
    parser.add_argument("--thumbor-pid", type=int)
    args = parser.parse_args()
    {"t1": t1, "t2": t2, "t4": t4}[args.mode](args)


if __name__ == "__main__":
    main()
