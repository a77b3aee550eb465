"""`recognizer read IMAGE... --out DIR`: one CSV grid and one JSON per image."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from recognizer.errors import InputImageError
from recognizer.settings import DEFAULT_MODEL, ModelSettings, TableShape
from recognizer.table import write_grid_csv, write_table_json
from tablebot.errors import ExitCode
from tablebot.files import atomic_open

log = logging.getLogger(__name__)


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--rows", type=click.IntRange(1, 200), help="Expected data rows (a mismatch is an error).")
@click.option("--cols", type=click.IntRange(1, 200), help="Expected data columns (a mismatch is an error).")
@click.option("--skip-rows", default=0, show_default=True, type=click.IntRange(0, 10), help="Header rows to skip.")
@click.option("--skip-cols", default=0, show_default=True, type=click.IntRange(0, 10), help="Header columns to skip.")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_MODEL, show_default=True)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Review threshold (default from the model settings).")
def read(images, out_dir, rows, cols, skip_rows, skip_cols, model_path, threshold) -> None:
    """Read table IMAGES (PNG/JPEG) into OUT/<stem>.csv (the grid) and OUT/<stem>.json (per cell).

    A file that cannot be read gets one error line; the others are still read, and the
    exit code is non-zero at the end.
    """
    from recognizer.imageio import read_image
    from recognizer.predictor import TableReader

    settings = ModelSettings(path=model_path, **({"review_threshold": threshold} if threshold is not None else {}))
    shape = TableShape(rows=rows, cols=cols, skip_rows=skip_rows, skip_cols=skip_cols)
    reader = TableReader.from_settings(settings)  # loads the model once, before the loop
    failed = flagged = cells = 0
    for path in images:
        try:
            table = reader.read(read_image(path, settings.max_pixels), shape, source=str(path))
        except InputImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        with atomic_open(out_dir / f"{path.stem}.csv") as f:
            write_grid_csv(table, f)
        with atomic_open(out_dir / f"{path.stem}.json") as f:
            write_table_json(table, f)
        cells += sum(c.value is not None for c in table)
        flagged += len(table.flagged)
        log.info("%s: %dx%d, %d flagged", path, table.rows, table.cols, len(table.flagged))
    print(f"read {len(images) - failed}/{len(images)} images, {cells} numbers, {flagged} flagged for review -> {out_dir}")
    if failed:
        sys.exit(int(ExitCode.INPUT))
