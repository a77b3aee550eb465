"""The review-then-fine-tune loop of the README, measured end to end on a look the shipped model reads badly.

It renders two disjoint sets of 8x15 tables (values 0..36, grid lines, some JPEG) in one font family
(default: Lato Hairline, a hairline weight training leaves out): a *collection* a person labels and
a held-out *test* set nobody labels (other seeds, so other values and sizes). Then the three commands:

1. `recognizer read COLLECTION --out OUT --rows 8 --cols 15` (subprocess, the real CLI);
2. the review, driven in-process as a person would: the collection's Workspace opened exactly as
   `robot review --collection OUT --labels LABELS` opens it (its loader: no model read), and for each
   queued cell (the flagged ones, least confident first) the true value posted to `/label` through
   the Flask test client of the review page. Wrong cells that were *not* flagged stay wrong (a
   person would have to spot them in the table view): they are counted, not labelled;
3. `recognizer finetune --model SHIPPED --labels LABELS --out MODEL` (subprocess, the real CLI).

Before/after, on the test set: cell accuracy, flagged share and wrong-and-not-flagged cells for the
shipped and the fine-tuned model (each read with `recognizer read`), plus both models on a freshly
generated held-out synthetic set of the shipped looks (`recognizer generate --split test` +
`recognizer evaluate`) to show the fine-tuned model did not forget. Prints a markdown table and the
wall time of each step; writes bench/out/finetune_loop/results.json. Everything generated goes to
the git-ignored bench/out/finetune_loop.

    PYTHONPATH=. .venv/bin/python bench/finetune_loop.py            # the whole loop
    PYTHONPATH=. .venv/bin/python bench/finetune_loop.py --probe    # how the shipped model reads candidate looks
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "finetune_loop"
SHIPPED = ROOT / "recognizer" / "models" / "default.keras"
ROWS, COLS = 8, 15
CANDIDATES = ("Cantarell Thin", "Lato Hairline", "DSEG14 Classic", "Comic Neue", "FreeMono")
BIN = Path(sys.executable).parent  # the venv's console scripts


# -- the look ---------------------------------------------------------------------------------------

def font_file(family: str) -> Path:
    """The font file fontconfig picks for `family`; SystemExit when it is not installed."""
    found = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True).stdout
    fam = subprocess.run(["fc-match", "-f", "%{family}", family], capture_output=True, text=True, check=True).stdout
    if not found or family.split()[0].lower() not in fam.lower():
        raise SystemExit(f"font family {family!r} is not installed (fc-match gives {fam!r})")
    return Path(found)


def render_set(folder: Path, font: Path, n: int, seed: int) -> dict[str, list[list[int]]]:
    """n pictures of 8x15 tables (light or dark, grid lines, a quarter JPEG) into folder; their true values by name."""
    from robot.demo.render import Style, TableLook, render_table, text_extent

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for i in range(n):
        style = (Style.LIGHT, Style.DARK)[i % 2]
        font_px = int(rng.integers(14, 25))
        tw, th = text_extent(TableLook(style=style, font_path=font, font_px=font_px))
        look = TableLook(style=style, font_path=font, font_px=font_px, cell_w=tw + 8 + int(rng.integers(4, 14)),
                         cell_h=th + 4 + int(rng.integers(6, 12)), grid_px=1)
        values = rng.integers(0, 37, (ROWS, COLS)).tolist()
        image = render_table(values, look)
        if i % 4 == 3:
            name = f"t{seed}_{i:03d}.jpg"
            cv2.imwrite(str(folder / name), image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
        else:
            name = f"t{seed}_{i:03d}.png"
            cv2.imwrite(str(folder / name), image)
        truth[name] = values
    (folder.parent / f"{folder.name}.truth.json").write_text(json.dumps(truth))
    return truth


# -- reading and scoring ----------------------------------------------------------------------------

def cli(*args: str, log: Path | None = None) -> tuple[float, str]:
    """Run one of the project's console scripts: its wall time in seconds and its output (also written
    to `log`). A failure stops the benchmark."""
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this worktree's code, not another checkout's
    done = subprocess.run([str(BIN / args[0]), *args[1:]], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True)
    output = done.stdout + done.stderr
    if log is not None:
        log.write_text(f"$ {' '.join(args)}\n{output}")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{output[-5000:]}")
    return time.perf_counter() - start, output


def read(pictures: Path, out: Path, model: Path, jobs: int, fresh: bool = True) -> float:
    """`recognizer read` the pictures into out (emptied first unless not `fresh`: a rerun keeps corrections)."""
    if fresh and out.exists():
        shutil.rmtree(out)
    return cli("recognizer", "read", str(pictures), "--out", str(out), "--rows", str(ROWS), "--cols", str(COLS),
               "--no-per-picture", "--model", str(model), "--jobs", str(jobs))[0]


@dataclass
class Score:
    pictures: int = 0
    refused: int = 0
    cells: int = 0
    right: int = 0
    flagged: int = 0
    wrong_unflagged: int = 0
    mistakes: dict[str, int] = field(default_factory=dict)  # "true->read" ("-" empty): the commonest

    @property
    def accuracy(self) -> float:
        return self.right / max(self.cells, 1)

    @property
    def flagged_share(self) -> float:
        return self.flagged / max(self.cells, 1)


def score(out: Path, truth: dict[str, list[list[int]]]) -> Score:
    """cells.csv of a `recognizer read` against the true values; a refused picture counts all its cells wrong."""
    s = Score(pictures=len(truth))
    with open(out / "summary.csv", newline="") as f:
        status = {r["source"]: r["status"] for r in csv.DictReader(f)}
    with open(out / "cells.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    mistakes: Counter[str] = Counter()
    for r in rows:
        value = int(r["value"]) if r["value"] else None
        true = truth[r["source"]][int(r["row"])][int(r["col"])]
        flagged = r["needs_review"] == "true"
        s.cells += 1
        s.right += value == true
        s.flagged += flagged
        s.wrong_unflagged += value != true and not flagged
        if value != true:
            mistakes[f"{true}->{'-' if value is None else value}"] += 1
    s.mistakes = dict(mistakes.most_common(8))
    for name in truth:
        if status.get(name) != "read":
            s.refused += 1
            s.cells += ROWS * COLS
    return s


# -- the review, as a person does it -----------------------------------------------------------------

@dataclass
class Review:
    queued: int = 0  # cells the page asked about
    typed: int = 0  # labels posted (= queued: the person answers every one)
    changed: int = 0  # of those, the model's guess was wrong
    wrong_unflagged: int = 0  # wrong cells the queue did not show (left as they are)
    seconds: float = 0.0


def review(out: Path, labels: Path, truth: dict[str, list[list[int]]]) -> Review:
    """Answer the review page's queue with the true values, through the page's own POST /label."""
    from robot.config import load_config
    from robot.review.app import PageSettings, create_app
    from robot.review.sources import collection_loader
    from robot.review.store import LabelStore
    from robot.review.workspace import Workspace

    start = time.perf_counter()
    config = load_config(ROOT / "config.yaml")
    # As `robot review --collection OUT --labels LABELS` builds it (robot/commands/review.py).
    workspace = Workspace(LabelStore(labels), collection_loader(out), config.model.max_pixels)
    client = create_app(workspace, PageSettings(config.review.cell_height_px, labels, "bench")).test_client()
    r = Review()
    r.queued = workspace.progress().left
    while True:
        html = client.get("/").get_data(as_text=True)
        item = re.search(r'name="item" value="([0-9a-f]+)"', html)
        if item is None:
            break
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        cell = workspace.item(item.group(1))
        name = workspace.doc(cell.doc_key).name
        value = truth[name][cell.row][cell.col]
        answer = client.post("/label", data={"token": token, "item": cell.id, "label": str(value)})
        if answer.status_code != 303:
            raise SystemExit(f"the review page refused a label ({answer.status_code}): {answer.get_data(as_text=True)[:500]}")
        r.typed += 1
        r.changed += cell.guess != value
    with open(out / "cells.csv", newline="") as f:
        for row in csv.DictReader(f):
            value = int(row["value"]) if row["value"] else None
            r.wrong_unflagged += value != truth[row["source"]][int(row["row"])][int(row["col"])]
    r.seconds = time.perf_counter() - start
    return r


# -- forgetting ------------------------------------------------------------------------------------

def synthetic_accuracy(model: Path, data: Path) -> float:
    """`recognizer evaluate` on a held-out synthetic set of the shipped looks: its overall accuracy."""
    _, output = cli("recognizer", "evaluate", "--model", str(model), "--data", str(data))
    m = re.search(r"accuracy[^0-9]*([0-9.]+)\s*(%?)", output, re.IGNORECASE)
    if m is None:
        raise SystemExit(f"no accuracy in recognizer evaluate's output:\n{output[-2000:]}")
    return float(m.group(1)) / (100 if m.group(2) else 1)


# -- main ------------------------------------------------------------------------------------------

def probe(n: int, jobs: int) -> None:
    """How the shipped model reads n tables of each candidate look."""
    print("| look | cell accuracy | flagged | wrong, not flagged | refused |\n|---|---|---|---|---|")
    for family in CANDIDATES:
        try:
            font = font_file(family)
        except SystemExit as exc:
            print(f"| {family} | {exc} | | | |")
            continue
        folder = OUT / "probe" / family.replace(" ", "_")
        truth = render_set(folder / "pics", font, n, seed=99)
        read(folder / "pics", folder / "read", SHIPPED, jobs)
        s = score(folder / "read", truth)
        print(f"| {family} ({font.name}) | {s.accuracy:.1%} | {s.flagged_share:.1%} | {s.wrong_unflagged} | {s.refused} |",
              flush=True)


def loop(args) -> dict:
    font = font_file(args.look)
    times: dict[str, float] = {}
    work = OUT / "loop"
    shutil.rmtree(work, ignore_errors=True)  # a fresh loop each time: no labels or journal from a previous run
    collection, test = work / "collection", work / "test"
    truth_c = render_set(collection, font, args.collection, seed=args.seed)
    truth_t = render_set(test, font, args.test, seed=args.seed + 1)
    assert not set(truth_c) & set(truth_t)

    times["1. recognizer read (collection)"] = read(collection, work / "read", SHIPPED, args.jobs)
    before_c = score(work / "read", truth_c)
    rv = review(work / "read", work / "labels", truth_c)
    times["2. review (queue answered)"] = rv.seconds
    model = work / "new-look.keras"
    ft = ["recognizer", "finetune", "--model", str(SHIPPED), "--labels", str(work / "labels"), "--out", str(model)]
    times["3. recognizer finetune"] = cli(*ft, *args.finetune_args, log=work / "finetune.log")[0]

    # As the README says: read again with the new model; the person's corrections in cells.csv are kept.
    times["4. recognizer read --model new (collection again)"] = read(collection, work / "read", model, args.jobs,
                                                                        fresh=False)
    after_c = score(work / "read", truth_c)

    read(test, work / "test-shipped", SHIPPED, args.jobs)
    read(test, work / "test-finetuned", model, args.jobs)
    shipped, tuned = score(work / "test-shipped", truth_t), score(work / "test-finetuned", truth_t)
    synth = work / "synthetic-test.npz"
    cli("recognizer", "generate", "--n", str(args.synthetic), "--seed", "1001", "--split", "test",
        "--sources", "fonts", "--out", str(synth))
    synth_before, synth_after = synthetic_accuracy(SHIPPED, synth), synthetic_accuracy(model, synth)

    results = {
        "date": time.strftime("%Y-%m-%d"),
        "look": {"family": args.look, "file": str(font), "rows": ROWS, "cols": COLS,
                 "collection_pictures": args.collection, "test_pictures": args.test, "seed": args.seed},
        "collection_read_by_shipped": asdict(before_c) | {"accuracy": before_c.accuracy},
        "review": asdict(rv),
        "collection_after_review_and_reread": asdict(after_c) | {"accuracy": after_c.accuracy},
        "finetune_args": args.finetune_args,
        "test": {"shipped": asdict(shipped) | {"accuracy": shipped.accuracy, "flagged_share": shipped.flagged_share},
                 "finetuned": asdict(tuned) | {"accuracy": tuned.accuracy, "flagged_share": tuned.flagged_share}},
        "synthetic_heldout": {"cells": args.synthetic, "shipped": synth_before, "finetuned": synth_after},
        "seconds": times,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nLook: {args.look} ({font.name}), collection {args.collection} pictures, test {args.test} pictures "
          f"({ROWS}x{COLS}).")
    print(f"Review: {rv.queued} cells queued, {rv.typed} typed ({rv.changed} of them were wrong); "
          f"{rv.wrong_unflagged} wrong cells were not flagged and stay wrong.")
    print(f"Collection: {before_c.accuracy:.2%} of cells right as first read, {after_c.accuracy:.2%} after the review "
          f"and a reread with the fine-tuned model ({after_c.wrong_unflagged} wrong and not flagged, "
          f"{after_c.flagged} flagged).\n")
    print("| on the held-out test set | shipped | fine-tuned |\n|---|---|---|")
    print(f"| cell accuracy | {shipped.accuracy:.2%} | {tuned.accuracy:.2%} |")
    print(f"| flagged share | {shipped.flagged_share:.2%} | {tuned.flagged_share:.2%} |")
    print(f"| wrong, not flagged | {shipped.wrong_unflagged} | {tuned.wrong_unflagged} |")
    print(f"| refused pictures | {shipped.refused} | {tuned.refused} |")
    print(f"| synthetic held-out fonts ({args.synthetic} cells) | {synth_before:.2%} | {synth_after:.2%} |\n")
    print(f"commonest mistakes on the test set (true->read): shipped {shipped.mistakes}, fine-tuned {tuned.mistakes}")
    for step, seconds in times.items():
        print(f"{step}: {seconds:.1f} s")
    print(f"\nwrote {OUT / 'results.json'}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe", action="store_true", help="only measure the shipped model on candidate looks")
    parser.add_argument("--look", default="Lato Hairline", help="font family of the new look (fc-match name)")
    parser.add_argument("--collection", type=int, default=60, help="pictures to label")
    parser.add_argument("--test", type=int, default=40, help="held-out pictures, never labelled")
    parser.add_argument("--synthetic", type=int, default=5000, help="cells of the synthetic forgetting check")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--finetune-args", nargs=argparse.REMAINDER, default=[],
                        help="passed on to recognizer finetune (last option)")
    args = parser.parse_args()
    if args.probe:
        probe(8, args.jobs)
    else:
        loop(args)


if __name__ == "__main__":
    main()
