"""Times `recognizer read` on a generated collection: 1,000 pictures with --jobs 1, 10,000 with --jobs 2.

    PYTHONPATH=. .venv/bin/python bench/bench_collection.py [--count 10000] [--single 1000]

The collection (8x15 tables in five looks, PNG and JPEG of quality 60-95, with its truth in
truth.json) is generated once into bench/out/collection (git-ignored) and reused by later runs.
Each timed run is `recognizer read FOLDER --out FRESH --no-per-picture --rows 8 --cols 15 --jobs N`
in a subprocess (nothing skipped from a journal). Printed: wall time, pictures/s, the speed-up on
pictures/s, cell accuracy against the truth (from cells.csv; a cell of a picture not read counts
as wrong) and the peak RSS: ru_maxrss of RUSAGE_CHILDREN in a wrapper around each run, the largest resident
set of any one process of that run (the parent or one worker), so an upper bound per worker.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
COLLECTION = OUT / "collection"
ROWS, COLS = 8, 15
VERSION = 1


def looks():
    from tests.tables import Look

    return [Look("light"), Look("dark", size=15, cell_w=36, cell_h=26), Look("zebra"),
            Look("roulette"), Look("plain", size=16, cell_w=40, cell_h=30)]


def make(i: int) -> tuple[str, list[list[int]]]:
    import cv2

    from tests.tables import random_values, render

    values = random_values(ROWS, COLS, seed=100_000 + i)
    image = render(values, looks()[i % 5])
    folder = COLLECTION / f"{i // 1000:02d}"
    if i % 2:
        name = f"{folder.name}/t{i:05d}.jpg"
        cv2.imwrite(str(COLLECTION / name), image, [cv2.IMWRITE_JPEG_QUALITY, 60 + (i * 7) % 36])
    else:
        name = f"{folder.name}/t{i:05d}.png"
        cv2.imwrite(str(COLLECTION / name), image)
    return name, values.tolist()


def generate(count: int) -> dict[str, list[list[int]]]:
    manifest = COLLECTION / "truth.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("version") == VERSION and len(data["truth"]) == count:
            return data["truth"]
    shutil.rmtree(COLLECTION, ignore_errors=True)
    for k in range((count + 999) // 1000):
        (COLLECTION / f"{k:02d}").mkdir(parents=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        truth = dict(pool.map(make, range(count), chunksize=50))
    manifest.write_text(json.dumps({"version": VERSION, "truth": truth}))
    print(f"generated {count} pictures in {time.perf_counter() - start:.0f} s -> {COLLECTION}")
    return truth


def accuracy(cells_csv: Path, truth: dict[str, list[list[int]]]) -> tuple[float, int]:
    """(share of the truth's cells read right, pictures with cells)."""
    right, seen = 0, set()
    with open(cells_csv, newline="") as f:
        for row in csv.DictReader(f):
            values = truth.get(row["source"])
            if values is None:
                continue
            seen.add(row["source"])
            want = values[int(row["row"])][int(row["col"])]
            got = int(row["value"]) if row["value"] else -1
            right += got == want
    return right / (len(truth) * ROWS * COLS), len(seen)


# Runs the command and prints, last on stderr, ru_maxrss of RUSAGE_CHILDREN: the largest resident
# set (KiB) of any one of its descendants (the read's parent or one of its workers), this run only.
PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r)")


def timed(names: list[str], jobs: int, truth_all: dict) -> dict:
    out = OUT / f"read-jobs{jobs}-{len(names)}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    listing = out.parent / f"list-jobs{jobs}-{len(names)}.txt"
    listing.write_text("".join(f"{COLLECTION / n}\n" for n in names))
    # --from-file names each picture by its file name (unique here: t00001.jpg ...)
    command = [sys.executable, "-m", "recognizer.cli", "read", "--from-file", str(listing), "--out", str(out),
               "--no-per-picture", "--rows", str(ROWS), "--cols", str(COLS), "--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *command], check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = int(done.stderr.strip().splitlines()[-1])  # KiB
    if done.returncode not in (0, 4):
        sys.exit(f"recognizer read failed ({done.returncode}): {done.stderr[-2000:]}")
    truth = {Path(n).name: truth_all[n] for n in names}
    acc, read = accuracy(out / "cells.csv", truth)
    return {"jobs": jobs, "pictures": len(names), "wall_s": wall, "per_s": len(names) / wall, "accuracy": acc,
            "read": read, "peak_rss_mb": peak / 1024,
            "summary": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=1_000)
    args = parser.parse_args()
    truth = generate(args.count)
    names = sorted(truth)
    results = [timed(names[: args.single], 1, truth), timed(names, 2, truth)]
    for r in results:
        print(f"--jobs {r['jobs']}: {r['pictures']} pictures in {r['wall_s']:.1f} s = {r['per_s']:.1f} pictures/s, "
              f"cell accuracy {r['accuracy']:.4%} ({r['read']} pictures read), "
              f"peak RSS of its largest process {r['peak_rss_mb']:.0f} MB")
        print(f"    {r['summary']}")
    print(f"speed-up 1 -> 2 jobs: {results[1]['per_s'] / results[0]['per_s']:.2f}x on pictures/s "
          f"({os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} available)")


if __name__ == "__main__":
    main()
