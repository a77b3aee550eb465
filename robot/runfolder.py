"""A run's folder, `<output.folder>/<run_id>/`: the one owner of its layout and of every file in it.

    <page>__<table>.csv            wide grid, the table's shape, no header (recognizer.table)
    <page>__<table>.json           every cell with value, confidence, box, needs_review (recognizer.table)
    <page>__<table>.png            the element screenshot             (when screenshots are kept)
    <page>__<table>.annotated.png  read values drawn on the screenshot (when screenshots are kept)
    cells.csv                      the long CSV: one line per cell of every table of the run (CELLS_HEADER)
    run.json                       the run's summary (tables written, tables unchanged since an earlier run, errors)
    failure__<label>.png/.html     the page at a failure (robot.browser)
    failure__<page>__<table>.table.png  a failed table's own element screenshot, as the robot last saw it

`cells.csv` has two writers that may work at the same time: the harvest, adding each table as it is
read, and `robot review`, correcting a cell. Both take the run folder's lock (`cells_locked`: flock
on the folder itself) and read, change and replace the file under it, so neither loses the other's
lines. A table's files are written first and its lines added to `cells.csv` second; if that fails
(disk full), its files are removed again (`add_table`): a table is in a run folder when `cells.csv`
lists it, never half.

run ids are `YYYYmmddTHHMMSSZ-<6 hex>` (UTC), so they sort by time. Writers take open streams
(`write_cells_csv`, `write_run_json`) or a folder; every file goes through `tablebot.files`.
Readers accept exactly what the writers produce.
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

from recognizer.imageio import decode_png, encode_png
from recognizer.table import (
    Cell,
    Table,
    read_grid_csv,
    table_from_dict,
    write_grid_csv,
    write_table_json,
)
from robot.annotate import annotate
from robot.results import STEM_SEPARATOR, CapturedTable, Failure, RunResult
from tablebot.clock import parse_utc_iso, utc_iso, utc_now
from tablebot.errors import DataError, TableBotError
from tablebot.files import atomic_open, output_error, write_bytes_atomic

log = logging.getLogger(__name__)

CELLS_CSV = "cells.csv"
RUN_JSON = "run.json"
CELLS_HEADER = ("run_id", "captured_at", "page", "table", "row", "col", "value", "confidence", "needs_review", "confirmed")
CONFIDENCE_DIGITS = 4
TRUE, FALSE = "true", "false"
RUN_ID_HEX_BYTES = 3
# Page and table names allowed by the config; a run or file name outside this is not ours.
NAME = r"[A-Za-z0-9_.-]+"
SAFE_NAME = re.compile(rf"^(?!\.){NAME}$")
TABLE_STEM = re.compile(rf"^(?!\.){NAME}{STEM_SEPARATOR}{NAME}$")


def new_run_id(now: datetime | None = None) -> str:
    now = (now or utc_now()).astimezone(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(RUN_ID_HEX_BYTES)}"


def public_url(url: str) -> str:
    """`url` without any `user:password@` part, safe to write down."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


# ---------------------------------------------------------------------------- one table's files

@dataclass(frozen=True)
class RunTable:
    """One table of one run: `run_dir/<stem>.{csv,json,png,annotated.png}`."""

    run_dir: Path
    stem: str  # <page>__<table>

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def page(self) -> str:
        return self.stem.split(STEM_SEPARATOR, 1)[0]

    @property
    def table_name(self) -> str:
        return self.stem.split(STEM_SEPARATOR, 1)[1]

    @property
    def csv_path(self) -> Path:
        return self.run_dir / f"{self.stem}.csv"

    @property
    def json_path(self) -> Path:
        return self.run_dir / f"{self.stem}.json"

    @property
    def png_path(self) -> Path:
        return self.run_dir / f"{self.stem}.png"

    @property
    def annotated_path(self) -> Path:
        return self.run_dir / f"{self.stem}.annotated.png"

    @property
    def cells_csv_path(self) -> Path:
        return self.run_dir / CELLS_CSV


def write_table_files(folder: Path, item: CapturedTable, *, screenshots: bool) -> list[str]:
    """Write one table's files into the run folder; returns their names."""
    rt = RunTable(folder, item.stem)
    write_table(rt, item.table)
    names = [rt.csv_path.name, rt.json_path.name]
    if screenshots:
        write_bytes_atomic(rt.png_path, item.png)
        write_bytes_atomic(rt.annotated_path, encode_png(annotate(decode_png(item.png), item.table)))
        names += [rt.png_path.name, rt.annotated_path.name]
    return names


def add_table(folder: Path, item: CapturedTable, *, screenshots: bool, run_id: str) -> list[str]:
    """Write one table's files, then add its lines to `cells.csv`; returns the files' names. When adding
    fails, the files are removed again and the error raised: the table is in the run folder whole or not at all."""
    names = write_table_files(folder, item, screenshots=screenshots)
    try:
        add_cells(folder, cell_rows(run_id, item))
    except BaseException:
        for name in names:
            with contextlib.suppress(OSError):
                (Path(folder) / name).unlink()
        raise
    return names


def write_table(rt: RunTable, table: Table) -> None:
    """The table's JSON, then its wide CSV: the JSON is what readers go by."""
    with atomic_open(rt.json_path) as stream:
        write_table_json(table, stream)
    with atomic_open(rt.csv_path) as stream:
        write_grid_csv(table, stream)


def read_table(rt: RunTable) -> Table:
    try:
        return table_from_dict(json.loads(rt.json_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read {rt.json_path}: {exc}; rerun the harvest or remove that run folder") from None


def read_grid(rt: RunTable) -> list[list[int | None]]:
    """The wide CSV's values."""
    try:
        with open(rt.csv_path, encoding="utf-8", newline="") as stream:
            return read_grid_csv(stream)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {rt.csv_path}: {exc}; rerun the harvest or remove that run folder") from None


def find_run_tables(output_folder: Path, run_ids: Iterable[str] = ()) -> list[RunTable]:
    """Tables with a JSON and a screenshot, newest run first, tables by name."""
    wanted = set(run_ids)
    for run_id in wanted:
        if not SAFE_NAME.match(run_id) or not (output_folder / run_id).is_dir():
            raise DataError(f"no run {run_id!r} in {output_folder}: pick one of its sub-folders")
    found = []
    for run_dir in run_folders(output_folder, newest_first=True):
        if wanted and run_dir.name not in wanted:
            continue
        for json_path in sorted(run_dir.glob(f"*{STEM_SEPARATOR}*.json")):
            rt = RunTable(run_dir, json_path.stem)
            if TABLE_STEM.match(rt.stem) and rt.png_path.is_file():
                found.append(rt)
    return found


def run_folders(output_folder: Path, *, newest_first: bool = False) -> list[Path]:
    """The run folders below `output_folder` (run ids sort by time)."""
    folder = Path(output_folder)
    if not folder.is_dir():
        return []
    runs = [d for d in folder.iterdir() if d.is_dir() and SAFE_NAME.match(d.name)]
    return sorted(runs, key=lambda d: d.name, reverse=newest_first)


def write_failed_table_image(folder: Path, stem: str, png: bytes) -> str | None:
    """Keep a failed table's element screenshot as `failure__<stem>.table.png` beside the page's snapshot;
    its file name, or None when the disk failed (logged: the failure being recorded matters more)."""
    name = f"failure__{stem}.table.png"
    try:
        write_bytes_atomic(Path(folder) / name, png)
    except (OSError, TableBotError) as err:
        log.warning("could not keep the screenshot of the failed table %s: %s", stem, err)
        return None
    return name


# ---------------------------------------------------------------------------- cells.csv

@dataclass(frozen=True)
class CellRow:
    """One line of `cells.csv`: one cell of one table of one run."""

    run_id: str
    captured_at: datetime  # UTC
    page: str
    table: str
    row: int
    col: int
    value: int | None
    confidence: float
    needs_review: bool
    confirmed: bool


def cell_rows(run_id: str, item: CapturedTable) -> list[CellRow]:
    return [CellRow(run_id, item.captured_at, item.page, item.table_name, c.row, c.col, c.value, c.confidence,
                    c.needs_review, c.confirmed) for c in item.table]


def write_cells_csv(rows: Iterable[CellRow], stream: IO[str]) -> None:
    """The header, then one line per cell."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CELLS_HEADER)
    for r in rows:
        writer.writerow([
            r.run_id, utc_iso(r.captured_at), r.page, r.table, r.row, r.col,
            "" if r.value is None else r.value, f"{r.confidence:.{CONFIDENCE_DIGITS}f}",
            _flag(r.needs_review), _flag(r.confirmed),
        ])


def read_cells_csv(stream: IO[str], where: str = CELLS_CSV) -> Iterator[CellRow]:
    """The rows of a long CSV as `write_cells_csv` writes it; anything else is a DataError naming the line."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or tuple(header) != CELLS_HEADER:
        raise DataError(f"{where}: the header must be {','.join(CELLS_HEADER)}: it is not a robot cells.csv")
    for line, fields in enumerate(reader, start=2):
        try:
            run_id, at, page, table, row, col, value, confidence, needs_review, confirmed = fields
            yield CellRow(run_id, parse_utc_iso(at), page, table, int(row), int(col), int(value) if value else None,
                          float(confidence), _parse_flag(needs_review), _parse_flag(confirmed))
        except ValueError as exc:
            raise DataError(f"{where} line {line}: {exc}") from None


def read_cells_file(path: Path) -> list[CellRow]:
    """A run's `cells.csv`; [] when there is none."""
    if not path.is_file():
        return []
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            return list(read_cells_csv(stream, str(path)))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_cells_file(folder: Path, rows: Iterable[CellRow]) -> None:
    """(Re)write the run's `cells.csv` whole, atomically. Hold `cells_locked` where another writer may be at work."""
    with atomic_open(Path(folder) / CELLS_CSV) as stream:
        write_cells_csv(rows, stream)


@contextlib.contextmanager
def cells_locked(folder: Path) -> Iterator[None]:
    """While inside, this process alone may change the run folder's `cells.csv` (an exclusive flock on
    the folder; it ends with the process, so a crash leaves no stale lock)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise output_error(Path(folder), exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def add_cells(folder: Path, rows: list[CellRow]) -> None:
    """Add one table's lines to `cells.csv`, keeping every line already there (a person's corrections too);
    lines of the same table from before are replaced."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {(r.page, r.table) for r in rows}
    with cells_locked(folder):
        kept = [r for r in read_cells_file(folder / CELLS_CSV) if (r.page, r.table) not in tables]
        write_cells_file(folder, kept + list(rows))


def find_cells_files(output_folder: Path) -> list[Path]:
    """Each run folder's `cells.csv`, oldest run first."""
    return [d / CELLS_CSV for d in run_folders(output_folder) if (d / CELLS_CSV).is_file()]


@dataclass(frozen=True)
class TableCells:
    """One table's cells as `cells.csv` has them."""

    run_id: str
    captured_at: datetime
    grid: list[list[int | None]]


def tables_in(rows: Iterable[CellRow]) -> dict[tuple[str, str], TableCells]:
    """The rows grouped by (page, table), each as a grid of values."""
    cells: dict[tuple[str, str], dict[tuple[int, int], int | None]] = {}
    first: dict[tuple[str, str], CellRow] = {}
    for r in rows:
        key = (r.page, r.table)
        first.setdefault(key, r)
        cells.setdefault(key, {})[(r.row, r.col)] = r.value
    tables = {}
    for key, by_pos in cells.items():
        n_rows, n_cols = max(r for r, _ in by_pos) + 1, max(c for _, c in by_pos) + 1
        grid = [[by_pos.get((r, c)) for c in range(n_cols)] for r in range(n_rows)]
        tables[key] = TableCells(first[key].run_id, first[key].captured_at, grid)
    return tables


def _flag(value: bool) -> str:
    return TRUE if value else FALSE


def _parse_flag(text: str) -> bool:
    if text not in (TRUE, FALSE):
        raise ValueError(f"{text!r} is not {TRUE} or {FALSE}")
    return text == TRUE


# ---------------------------------------------------------------------------- a person's correction

def correct_cell(rt: RunTable, row: int, col: int, value: int | None, needs_review: bool, confirmed: bool) -> Table:
    """Set one cell in the table's JSON, wide CSV, annotated screenshot and the run's `cells.csv` (under the
    run folder's lock: a harvest may be adding tables to it); returns the new table."""
    with cells_locked(rt.run_dir):
        return _correct_cell(rt, row, col, value, needs_review, confirmed)


def _correct_cell(rt: RunTable, row: int, col: int, value: int | None, needs_review: bool, confirmed: bool) -> Table:
    table = read_table(rt)
    if not (0 <= row < table.rows and 0 <= col < table.cols):
        raise DataError(f"{rt.json_path}: no cell ({row}, {col}) in a {table.rows}x{table.cols} table")
    old = table.cell(row, col)
    table = table.with_cell(Cell(row=row, col=col, value=value, confidence=old.confidence, box=old.box,
                                 needs_review=needs_review, confirmed=confirmed))
    write_table(rt, table)
    _correct_cells_csv(rt, table.cell(row, col))
    if rt.png_path.is_file() and rt.annotated_path.is_file():
        write_bytes_atomic(rt.annotated_path, encode_png(annotate(decode_png(rt.png_path.read_bytes()), table)))
    return table


def _correct_cells_csv(rt: RunTable, cell: Cell) -> None:
    path = rt.cells_csv_path
    if not path.is_file():
        log.warning("%s is missing: only the table's JSON and wide CSV were corrected", path)
        return
    rows, hit = [], False
    for r in read_cells_file(path):
        if (r.page, r.table, r.row, r.col) == (rt.page, rt.table_name, cell.row, cell.col):
            r = CellRow(r.run_id, r.captured_at, r.page, r.table, r.row, r.col, cell.value, r.confidence,
                        cell.needs_review, cell.confirmed)
            hit = True
        rows.append(r)
    if not hit:
        log.warning("%s has no row for %s cell (%d, %d): left as it was", path, rt.stem, cell.row, cell.col)
        return
    write_cells_file(rt.run_dir, rows)


# ---------------------------------------------------------------------------- run.json

def run_summary(result: RunResult, files: dict[str, list[str]] | None = None) -> dict:
    """What `run.json` holds; `files` maps a table's stem (or "" for the run) to the files written for it."""
    files = files or {}
    return {
        "run_id": result.run_id,
        "started_at": utc_iso(result.started_at),
        "finished_at": utc_iso(result.finished_at),
        "seconds": round(result.seconds, 3),
        "target": public_url(result.target_url),
        "ok": result.ok,
        "tables": [
            {
                "page": item.page,
                "table": item.table_name,
                "captured_at": utc_iso(item.captured_at),
                "rows": item.table.rows,
                "cols": item.table.cols,
                "cells": len(item.table.cells),
                "empty": sum(c.value is None for c in item.table),
                "flagged": len(item.table.flagged),
                "files": files.get(item.stem, []),
            }
            for item in result.tables
        ],
        "unchanged": [
            {"page": item.page, "table": item.table_name, "same_as_run": item.same_as_run, "same": item.by}
            for item in result.unchanged
        ],
        "totals": {"tables": len(result.tables), "cells": result.cells, "flagged": result.flagged,
                   "unchanged": len(result.unchanged)},
        "errors": [_failure_dict(f) for f in result.errors],
        "files": files.get("", []),
    }


def write_run_json(result: RunResult, stream: IO[str], files: dict[str, list[str]] | None = None) -> None:
    json.dump(run_summary(result, files), stream, indent=1)
    stream.write("\n")


def write_run_files(result: RunResult, table_files: dict[str, list[str]] | None = None) -> list[str]:
    """Write `run.json` (which lists every file of the run), and `cells.csv` from the run's tables where no
    table was added to it (`add_table`) yet; returns their names. A `cells.csv` there is left as it is: it
    may hold corrections made since its tables were read."""
    names = [CELLS_CSV, RUN_JSON]
    Path(result.folder).mkdir(parents=True, exist_ok=True)
    with cells_locked(result.folder):
        if not (Path(result.folder) / CELLS_CSV).is_file():
            write_cells_file(result.folder, (row for item in result.tables for row in cell_rows(result.run_id, item)))
    with atomic_open(result.folder / RUN_JSON) as stream:
        write_run_json(result, stream, {**(table_files or {}), "": names})
    return names


def _failure_dict(failure: Failure) -> dict:
    return {"page": failure.page, "table": failure.table_name, "error": failure.error,
            "message": failure.message, "exit_code": failure.exit_code, "snapshot": failure.snapshot,
            "table_image": failure.table_image}

