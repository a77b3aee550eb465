"""Recognizer benchmark: speed, memory and accuracy on held-out tables, side by side with Tesseract.

    .venv/bin/python bench/bench_recognizer.py [--tables 40] [--repeat 5] [--tesseract-tables 4] [--cli-images 100]

Prints one table of figures (medians, ratios) and writes bench/out/results.json.
Timings come from this machine; run it on an otherwise idle machine, and more than once: a shared
virtual machine's speed can vary from one hour to the next.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.heldout_tables import Score, make_tables  # noqa: E402
from recognizer.predictor import TableReader, prepare  # noqa: E402
from recognizer.segment import crop_cells, find_grid  # noqa: E402
from recognizer.settings import ModelSettings, TableShape  # noqa: E402

OUT = ROOT / "bench" / "out"


def score(predicted, truth) -> tuple[int, int]:
    """(right, total) over all cells; empty must be read as empty."""
    right = total = 0
    for prow, trow in zip(predicted, truth):
        for p, t in zip(prow, trow):
            right += p == t
            total += 1
    return right, total


def bench_ours(samples, settings, repeat: int = 1) -> dict:
    reader = TableReader.from_settings(settings)
    shape = TableShape(rows=len(samples[0].values), cols=len(samples[0].values[0]))
    reader.read(samples[0].image, shape)  # warm-up: first call plans the interpreter's tensors
    seg_ms, total_ms = [], []
    result, failed = Score(), 0
    for s in samples:
        # Each table is timed `repeat` times and counts with its median: a shared machine's
        # hiccups then move single readings, not the figure.
        seg, total = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            prepare(s.image, shape)  # what `read` does before the model: segment, crop, normalise
            t1 = time.perf_counter()
            try:
                table = reader.read(s.image, shape)
            except Exception as exc:  # counted, not hidden: every cell of the table is wrong
                table = None
                print(f"  failed: {exc}", file=sys.stderr)
                break
            t2 = time.perf_counter()
            seg.append((t1 - t0) * 1000)
            total.append((t2 - t1) * 1000)
        if table is None:
            failed += 1
            result.total += shape.rows * shape.cols
            continue
        seg_ms.append(float(np.median(seg)))
        total_ms.append(float(np.median(total)))
        result.add(table, s.values)
    return {
        "tables": len(samples),
        "repeat": repeat,
        "failed_tables": failed,
        "cell_accuracy": result.accuracy,
        "flagged_share": result.flagged_share,
        "wrong_unflagged": result.wrong_unflagged,
        "median_ms_per_table": float(np.median(total_ms)),
        "median_ms_segment_normalise": float(np.median(seg_ms)),
        "p90_ms_per_table": float(np.percentile(total_ms, 90)),
    }


def bench_cli(samples, n: int, model: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-read-"))
    try:
        paths = []
        for i in range(n):
            p = tmp / f"t{i:03d}.png"
            cv2.imwrite(str(p), samples[i % len(samples)].image)
            paths.append(str(p))
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "recognizer"), "read", *paths, "--out", str(tmp / "out"),
             "--rows", "8", "--cols", "15", "--model", str(model)],
            capture_output=True, text=True,
        )
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return {"images": n, "seconds": wall, "exit_code": proc.returncode, "peak_rss_mb": max(peak, before) / 1024,
                "last_line": proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()[-200:]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tesseract_available() -> bool:
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
        return True
    except Exception:
        return False


def bench_tesseract(samples) -> dict:
    import pytesseract

    digits = "-c tessedit_char_whitelist=0123456789"
    digits_and_space = '-c "tessedit_char_whitelist=0123456789 "'  # the space keeps numbers apart
    shape = TableShape(rows=len(samples[0].values), cols=len(samples[0].values[0]))
    whole_ms, cell_ms = [], []
    w_right = c_right = total = 0
    for s in samples:
        # Tesseract reads small text better at 2x: give it that advantage, timed.
        t0 = time.perf_counter()
        big = cv2.resize(cv2.cvtColor(s.image, cv2.COLOR_BGR2RGB), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        text = pytesseract.image_to_string(big, config=f"--psm 6 {digits_and_space}")
        whole_ms.append((time.perf_counter() - t0) * 1000)
        lines = [[int(t) for t in re.findall(r"\d+", line)] for line in text.splitlines() if re.search(r"\d", line)]
        # Tesseract drops empty cells: align each line's numbers from the left, as a reader would.
        pred = [(lines[r] if r < len(lines) else []) + [None] * shape.cols for r in range(shape.rows)]
        pred = [row[: shape.cols] for row in pred]
        w_right += score(pred, s.values)[0]
        grid = find_grid(s.image, shape)  # the project's own cell boxes
        t0 = time.perf_counter()
        cells = []
        for crop in crop_cells(s.image, grid):
            big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            t = pytesseract.image_to_string(big, config=f"--psm 7 {digits}").strip()
            cells.append(int(t) if t.isdigit() else None)
        cell_ms.append((time.perf_counter() - t0) * 1000)
        pred = [cells[r * shape.cols : (r + 1) * shape.cols] for r in range(shape.rows)]
        c_right += score(pred, s.values)[0]
        total += shape.rows * shape.cols
    return {
        "tables": len(samples),
        "psm6_cell_accuracy": w_right / total,
        "psm6_median_ms_per_table": float(np.median(whole_ms)),
        "psm7_cell_accuracy": c_right / total,
        "psm7_median_ms_per_table": float(np.median(cell_ms)),
        "version": str(pytesseract.get_tesseract_version()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", type=int, default=40, help="held-out tables for speed and accuracy")
    ap.add_argument("--tesseract-tables", type=int, default=4, help="tables for the (slow) Tesseract runs")
    ap.add_argument("--cli-images", type=int, default=100, help="images for the one-process CLI run")
    ap.add_argument("--repeat", type=int, default=5, help="timed reads of each table (its median counts)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--model", type=Path, default=ModelSettings().path)
    args = ap.parse_args()

    samples = make_tables(args.tables, seed=args.seed)
    settings = ModelSettings(path=args.model)
    results = {"machine": {"cpus": os.cpu_count()}, "ours": bench_ours(samples, settings, args.repeat)}
    results["ours"]["peak_rss_mb_in_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["cli"] = bench_cli(samples, args.cli_images, args.model)
    if tesseract_available() and args.tesseract_tables:
        results["tesseract"] = bench_tesseract(samples[: args.tesseract_tables])
        ours_sub = bench_ours(samples[: args.tesseract_tables], settings)
        results["ours_on_tesseract_subset"] = ours_sub
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))

    o, c = results["ours"], results["cli"]
    print(f"\nheld-out tables: {o['tables']} x 8x15 (fonts and looks kept out of training), {os.cpu_count()} CPUs")
    print(f"{'reader':34s} {'cell accuracy':>14s} {'ms/table (median)':>18s}")
    print(f"{'tablebot (segment + CNN)':34s} {o['cell_accuracy']:14.4%} {o['median_ms_per_table']:18.1f}")
    if "tesseract" in results:
        t, s = results["tesseract"], results["ours_on_tesseract_subset"]
        print(f"{'  same ' + str(t['tables']) + ' tables':34s} {s['cell_accuracy']:14.4%} {s['median_ms_per_table']:18.1f}")
        print(f"{'tesseract ' + t['version'] + ' psm 6 (table)':34s} {t['psm6_cell_accuracy']:14.4%} {t['psm6_median_ms_per_table']:18.1f}")
        print(f"{'tesseract psm 7 (our cell boxes)':34s} {t['psm7_cell_accuracy']:14.4%} {t['psm7_median_ms_per_table']:18.1f}")
    print(f"\nflagged for review: {o['flagged_share']:.2%} of cells; wrong and not flagged: {o['wrong_unflagged']}; "
          f"tables that failed to segment: {o['failed_tables']}")
    print(f"segmentation + normalisation alone: median {o['median_ms_segment_normalise']:.1f} ms/table")
    print(f"recognizer read of {c['images']} images in one process: {c['seconds']:.1f} s (exit {c['exit_code']}), "
          f"peak RSS {c['peak_rss_mb']:.0f} MB; in-process peak RSS {o['peak_rss_mb_in_process']:.0f} MB")
    print(f"written: {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
