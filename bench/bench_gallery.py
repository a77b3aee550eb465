"""Accuracy per look on the looks gallery (bench/gallery): tables styled by real CSS, rendered in real
Chromium, none of them seen in training. Reports each look apart, then the whole, and the JPEG subset.

    .venv/bin/python bench/bench_gallery.py [--render] [--per-look 8] [--gallery bench/out/gallery]

Every picture is read twice: with its shape given (rows, cols and header rows/columns, as the
config of a table or `recognizer read --rows --cols --skip-rows --skip-cols` give it), and with only
its header counts. A table the reader refuses counts its cells as not right but not as silently
wrong; a table read in the wrong shape counts every cell wrong, flagged or not as its cells say.
Cells the page itself cut short ("2…": a table squeezed into its box, recorded by the renderer) are
counted apart: no reader can know them, and the right outcome is a flag. The bars are checked on the
cells a person can read; the plain figures count every cell. Results go to `<gallery>/results.json`.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gallery.looks import BY_NAME, LOOKS  # noqa: E402
from bench.gallery.render import DEFAULT_OUT, Picture, load_manifest, render  # noqa: E402
from recognizer.errors import InputImageError  # noqa: E402
from recognizer.imageio import read_image  # noqa: E402
from recognizer.predictor import TableReader  # noqa: E402
from recognizer.settings import ModelSettings, TableShape  # noqa: E402
from tablebot.files import atomic_open  # noqa: E402

# The bars for a look (shape given): cells right, share flagged.
MIN_LOOK_ACCURACY = 0.995
MAX_FLAGGED = 0.02


@dataclass
class Tally:
    cells: int = 0
    right: int = 0
    flagged: int = 0
    wrong_unflagged: int = 0
    tables: int = 0
    refused: int = 0
    cut: int = 0  # cells the page cut short ...
    cut_right: int = 0  # ... of them read right anyway (by chance: "3…" of a 3x)
    cut_flagged: int = 0
    reasons: dict = field(default_factory=dict)

    def add(self, other: "Tally") -> None:
        for name in ("cells", "right", "flagged", "wrong_unflagged", "tables", "refused", "cut", "cut_right",
                     "cut_flagged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    @property
    def accuracy(self) -> float:
        return self.right / max(self.cells, 1)

    @property
    def flagged_share(self) -> float:
        return self.flagged / max(self.cells, 1)

    @property
    def readable_accuracy(self) -> float:
        """Right among the cells a person can read (not cut short by the page)."""
        return (self.right - self.cut_right) / max(self.cells - self.cut, 1)

    @property
    def readable_flagged_share(self) -> float:
        return (self.flagged - self.cut_flagged) / max(self.cells - self.cut, 1)

    def meets_the_bar(self) -> bool:
        return self.readable_accuracy >= MIN_LOOK_ACCURACY and self.readable_flagged_share <= MAX_FLAGGED


def score(reader: TableReader, pic: Picture, gallery: Path, shape_given: bool) -> Tally:
    t = Tally(cells=pic.rows * pic.cols, tables=1, cut=len(pic.cut))
    cut = {tuple(rc) for rc in pic.cut}
    shape = TableShape(rows=pic.rows if shape_given else None, cols=pic.cols if shape_given else None,
                       skip_rows=pic.skip_rows, skip_cols=pic.skip_cols)
    try:
        table = reader.read(read_image(gallery / pic.file, 100_000_000), shape, source=pic.file)
    except InputImageError as exc:
        t.refused = 1
        reason = str(exc).split(": ", 1)[-1][:60]
        t.reasons[reason] = 1
        return t
    if (table.rows, table.cols) != (pic.rows, pic.cols):
        t.flagged = len(table.flagged)
        t.wrong_unflagged = t.cells if len(table.flagged) < len(table.cells) else 0
        t.reasons[f"read as {table.rows}x{table.cols}"] = 1
        return t
    for cell in table:
        truth = pic.values[cell.row][cell.col]
        t.right += cell.value == truth
        t.flagged += cell.needs_review
        if (cell.row, cell.col) in cut:
            t.cut_right += cell.value == truth
            t.cut_flagged += cell.needs_review
        t.wrong_unflagged += cell.value != truth and not cell.needs_review
    return t


def evaluate(pictures: list[Picture], gallery: Path, reader: TableReader) -> dict:
    per_look: dict[str, dict[str, Tally]] = defaultdict(lambda: {"shape": Tally(), "no_shape": Tally()})
    jpeg = Tally()
    for pic in pictures:
        given = score(reader, pic, gallery, True)
        per_look[pic.look]["shape"].add(given)
        per_look[pic.look]["no_shape"].add(score(reader, pic, gallery, False))
        if pic.jpeg_quality and pic.jpeg_quality >= 60 and pic.text_px >= 11:
            jpeg.add(given)
    overall = {"shape": Tally(), "no_shape": Tally()}
    for tallies in per_look.values():
        for mode in overall:
            overall[mode].add(tallies[mode])
    return {"per_look": {k: {m: asdict(v) | {"accuracy": v.accuracy, "flagged_share": v.flagged_share,
                                             "readable_accuracy": v.readable_accuracy,
                                             "readable_flagged_share": v.readable_flagged_share,
                                             "meets_the_bar": v.meets_the_bar()}
                             for m, v in modes.items()} for k, modes in sorted(per_look.items())},
            "overall": {m: asdict(v) | {"accuracy": v.accuracy} for m, v in overall.items()},
            "jpeg_q60_text11": asdict(jpeg) | {"accuracy": jpeg.accuracy, "readable_accuracy": jpeg.readable_accuracy}}


def report(results: dict) -> list[str]:
    lines = ["| look | cells | right (shape given) | flagged | wrong, not flagged | refused | cut by the page, flagged | "
             "right (no shape) | wrong, not flagged (no shape) |", "|---|---|---|---|---|---|---|---|---|"]
    for name, modes in results["per_look"].items():
        s, n = modes["shape"], modes["no_shape"]
        bad = "" if s["meets_the_bar"] else " **below the bar**"
        right = f"{s['accuracy']:.2%}" + (f" ({s['readable_accuracy']:.2%} of the readable)" if s["cut"] else "")
        lines.append(f"| {name}{bad} | {s['cells']} | {right} | {s['flagged_share']:.1%} | "
                     f"{s['wrong_unflagged']} | {s['refused']}/{s['tables']} | {s['cut_flagged']}/{s['cut']} | "
                     f"{n['accuracy']:.2%} | {n['wrong_unflagged']} |")
    o, j = results["overall"], results["jpeg_q60_text11"]
    lines.append(f"| **all** | {o['shape']['cells']} | {o['shape']['accuracy']:.2%} | | {o['shape']['wrong_unflagged']} | "
                 f"{o['shape']['refused']}/{o['shape']['tables']} | {o['shape']['cut_flagged']}/{o['shape']['cut']} | "
                 f"{o['no_shape']['accuracy']:.2%} | "
                 f"{o['no_shape']['wrong_unflagged']} |")
    readable = f" ({j['readable_accuracy']:.2%} of the {j['cells'] - j['cut']} readable)" if j["cut"] else ""
    lines.append(f"\nJPEG quality >= 60, text >= 11 px (shape given): {j['accuracy']:.2%} of {j['cells']} cells{readable}, "
                 f"{j['wrong_unflagged']} wrong and not flagged")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--render", action="store_true", help="render the gallery first (real Chromium)")
    parser.add_argument("--per-look", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, default=ModelSettings().path)
    args = parser.parse_args()
    if args.render or not (args.gallery / "manifest.json").is_file():
        render(list(LOOKS), args.per_look, args.seed, args.gallery)
    pictures = [p for p in load_manifest(args.gallery) if p.look in BY_NAME]
    reader = TableReader.from_settings(ModelSettings(path=args.model))
    results = evaluate(pictures, args.gallery, reader)
    for line in report(results):
        print(line)
    with atomic_open(args.gallery / "results.json") as stream:
        json.dump(results, stream, indent=1)


if __name__ == "__main__":
    main()
