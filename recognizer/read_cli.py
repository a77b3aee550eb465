"""`recognizer read PATH... --out DIR`: a collection of pictures -> cells.csv, summary.csv and,
per picture, a CSV grid and a JSON named by the picture's relative path."""
from __future__ import annotations

import csv
import hashlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from recognizer.errors import InputImageError, SegmentationError
from recognizer.inputs import InputsError, gather, read_list
from recognizer.settings import DEFAULT_MODEL, ModelSettings, TableShape
from recognizer.table import Table, write_grid_csv, write_table_json
from tablebot.errors import ExitCode
from tablebot.files import atomic_open

log = logging.getLogger(__name__)

CELLS_COLUMNS = ("source", "row", "col", "value", "confidence", "needs_review", "confirmed")
SUMMARY_COLUMNS = ("source", "sha256", "rows", "cols", "cells", "flagged", "status", "error")
COLLECTION_FILES = ("cells.csv", "summary.csv")


@dataclass
class Outcome:
    source: str
    sha256: str = ""
    table: Table | None = None
    status: str = "read"  # read | refused (no table, wrong shape) | unreadable (not decoded)
    error: str = ""


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"),
              help="Also read the paths listed in this file, one per line, relative to the current folder ('-': standard input).")
@click.option("--include", multiple=True, metavar="GLOB", help="Only sources whose relative path matches (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip sources whose relative path matches (repeatable).")
@click.option("--per-picture/--no-per-picture", default=True, show_default=True,
              help="Also write OUT/<source>.csv and OUT/<source>.json for each picture.")
@click.option("--rows", type=click.IntRange(1, 200), help="Expected data rows (a mismatch refuses the picture).")
@click.option("--cols", type=click.IntRange(1, 200), help="Expected data columns (a mismatch refuses the picture).")
@click.option("--skip-rows", default=0, show_default=True, type=click.IntRange(0, 10), help="Header rows to skip.")
@click.option("--skip-cols", default=0, show_default=True, type=click.IntRange(0, 10), help="Header columns to skip.")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_MODEL, show_default=True)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Review threshold (default from the model settings).")
def read(paths, out_dir, from_file, include, exclude, per_picture, rows, cols, skip_rows, skip_cols, model_path,
         threshold) -> None:
    """Read the table pictures in PATHS (files, or folders searched recursively for .png .jpg
    .jpeg .webp .bmp .gif .tif .tiff) into OUT/cells.csv (one row per cell), OUT/summary.csv (one
    row per picture) and, per picture, OUT/<name>.csv (the grid) and OUT/<name>.json, where <name>
    is its path relative to the folder given, suffix included (a/t.png -> OUT/a/t.png.csv).

    A picture that cannot be read gets one error line naming it; the others are still read.
    The exit code is non-zero only if some file could not be decoded at all; refused pictures
    (no table, wrong shape) are listed in summary.csv.
    """
    listed = read_list(from_file) if from_file is not None else []
    try:
        sources = gather([*paths, *listed], include, exclude)
    except InputsError as exc:
        raise click.UsageError(str(exc)) from None
    if not sources:
        raise click.UsageError("no pictures to read: give files or folders (or --from-file), and check --include/--exclude")
    clash = [s.name for s in sources if per_picture and f"{s.name}.csv" in COLLECTION_FILES]
    if clash:
        raise click.UsageError(f"{clash[0]}.csv would overwrite the collection's own file: rename {clash[0]}")

    from recognizer.imageio import decode_image, read_file
    from recognizer.predictor import TableReader

    settings = ModelSettings(path=model_path, **({"review_threshold": threshold} if threshold is not None else {}))
    shape = TableShape(rows=rows, cols=cols, skip_rows=skip_rows, skip_cols=skip_cols)
    reader = TableReader.from_settings(settings)  # loads the model once, before the loop
    outcomes = []
    bar, say = progress(sources)
    for source in bar:
        outcome = Outcome(source.name)
        outcomes.append(outcome)
        try:
            data = read_file(source.path, source.name)
            outcome.sha256 = hashlib.sha256(data).hexdigest()
            image = decode_image(data, settings.max_pixels, source.name)
        except InputImageError as exc:
            outcome.status, outcome.error = "unreadable", reason(exc, source.name)
            say(f"error: {source.name}: {outcome.error}")
            continue
        try:
            table = reader.read(image, shape, source=source.name)
        except InputImageError as exc:  # SegmentationError: no table, wrong shape
            outcome.status = "refused" if isinstance(exc, SegmentationError) else "unreadable"
            outcome.error = reason(exc, source.name)
            say(f"error: {source.name}: {outcome.error}")
            continue
        outcome.table = table
        if per_picture:
            with atomic_open(out_dir / f"{source.name}.csv") as f:
                write_grid_csv(table, f)
            with atomic_open(out_dir / f"{source.name}.json") as f:
                write_table_json(table, f)
        log.info("%s: %dx%d, %d flagged", source.name, table.rows, table.cols, len(table.flagged))
    with atomic_open(out_dir / "cells.csv") as f:
        write_cells_csv(outcomes, f)
    with atomic_open(out_dir / "summary.csv") as f:
        write_summary_csv(outcomes, f)

    tables = [o.table for o in outcomes if o.table is not None]
    refused = sum(o.status == "refused" for o in outcomes)
    unreadable = sum(o.status == "unreadable" for o in outcomes)
    numbers = sum(c.value is not None for t in tables for c in t)
    flagged = sum(len(t.flagged) for t in tables)
    print(f"read {len(tables)}/{len(outcomes)} images, {numbers} numbers, {flagged} flagged for review, "
          f"{refused} refused, {unreadable} unreadable -> {out_dir}")
    if unreadable:
        sys.exit(int(ExitCode.INPUT))


def reason(exc: Exception, name: str) -> str:
    """The error's message without the source name it may already start with."""
    text = str(exc)
    return text[len(name) + 2:] if text.startswith(f"{name}: ") else text


def progress(sources):
    """(iterable, print-to-stderr) with a tqdm bar on stderr when it is a terminal and tqdm is there."""
    try:
        from tqdm import tqdm
    except ImportError:
        return sources, lambda line: print(line, file=sys.stderr)
    bar = tqdm(sources, file=sys.stderr, unit="picture", disable=not sys.stderr.isatty())
    return bar, lambda line: tqdm.write(line, file=sys.stderr)


def write_cells_csv(outcomes: list[Outcome], stream) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CELLS_COLUMNS)
    for outcome in outcomes:
        for c in outcome.table or ():
            writer.writerow([outcome.source, c.row, c.col, "" if c.value is None else c.value,
                             round(float(c.confidence), 6), _bool(c.needs_review), _bool(c.confirmed)])


def write_summary_csv(outcomes: list[Outcome], stream) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for o in outcomes:
        t = o.table
        shape = [t.rows, t.cols, sum(c.value is not None for c in t), len(t.flagged)] if t else ["", "", "", ""]
        writer.writerow([o.source, o.sha256, *shape, o.status, o.error])


def _bool(flag: bool) -> str:
    return "true" if flag else "false"
