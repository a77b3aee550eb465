"""Harvest run folders, as the robot writes them, and the one way the review tool changes them.

`<output.folder>/<run_id>/` holds per table `<page>__<table>.csv` (wide grid, no header),
`<page>__<table>.json` (the Table), `<page>__<table>.png` (the screenshot) and one long
`cells.csv` for the whole run. A person's answer updates all three text files, each
atomically; the JSON is written first and is what the tool reads back.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from recognizer.table import Cell, Table, table_from_dict, write_grid_csv
from tablebot.errors import DataError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger(__name__)

LONG_CSV = "cells.csv"
LONG_FIELDS = ("run_id", "captured_at", "page", "table", "row", "col", "value", "confidence", "needs_review", "confirmed")
STEM_SEPARATOR = "__"
# Page and table names allowed by the config; a run or file name outside this is not ours.
NAME = r"[A-Za-z0-9_.-]+"
SAFE_NAME = re.compile(rf"^(?!\.){NAME}$")
TABLE_STEM = re.compile(rf"^(?!\.){NAME}{STEM_SEPARATOR}{NAME}$")
BOOL_SPELLINGS = (("true", "false"), ("True", "False"), ("1", "0"))


@dataclass(frozen=True)
class RunTable:
    """One table of one harvest run: `run_dir/<stem>.{json,csv,png}`."""

    run_dir: Path
    stem: str  # <page>__<table>

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def json_path(self) -> Path:
        return self.run_dir / f"{self.stem}.json"

    @property
    def csv_path(self) -> Path:
        return self.run_dir / f"{self.stem}.csv"

    @property
    def png_path(self) -> Path:
        return self.run_dir / f"{self.stem}.png"

    @property
    def long_csv_path(self) -> Path:
        return self.run_dir / LONG_CSV


def find_run_tables(output_folder: Path, run_ids: Iterable[str] = ()) -> list[RunTable]:
    """Tables with a JSON and a screenshot, newest run first (run ids sort by time), tables by name."""
    wanted = set(run_ids)
    for run_id in wanted:
        if not SAFE_NAME.match(run_id) or not (output_folder / run_id).is_dir():
            raise DataError(f"no run {run_id!r} in {output_folder}: pick one of its sub-folders")
    if not output_folder.is_dir():
        return []
    found = []
    for run_dir in sorted((d for d in output_folder.iterdir() if d.is_dir()), key=lambda d: d.name, reverse=True):
        if not SAFE_NAME.match(run_dir.name) or (wanted and run_dir.name not in wanted):
            continue
        for json_path in sorted(run_dir.glob(f"*{STEM_SEPARATOR}*.json")):
            rt = RunTable(run_dir, json_path.stem)
            if TABLE_STEM.match(rt.stem) and rt.png_path.is_file():
                found.append(rt)
    return found


def load_table(rt: RunTable) -> Table:
    return table_from_dict(_read_json(rt))


def set_cell(rt: RunTable, row: int, col: int, value: int | None, needs_review: bool, confirmed: bool) -> Table:
    """Set one cell in the table JSON, the wide CSV and the long cells.csv; returns the new table."""
    data = _read_json(rt)
    table = table_from_dict(data)
    if not (0 <= row < table.rows and 0 <= col < table.cols):
        raise DataError(f"{rt.json_path}: no cell ({row}, {col}) in a {table.rows}x{table.cols} table")
    index = row * table.cols + col
    data["cells"][index].update(value=value, needs_review=needs_review, confirmed=confirmed)
    table = table_from_dict(data)
    with atomic_open(rt.json_path) as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    with atomic_open(rt.csv_path) as f:
        write_grid_csv(table, f)
    _update_long_csv(rt, table.cell(row, col))
    _redraw_annotated(rt, table)
    return table


def _redraw_annotated(rt: RunTable, table: Table) -> None:
    """Keep `<stem>.annotated.png` in step with the corrected values (when screenshots were kept)."""
    from robot.output import annotate, decode_png, encode_png

    annotated = rt.run_dir / f"{rt.stem}.annotated.png"
    if rt.png_path.is_file() and annotated.is_file():
        write_bytes_atomic(annotated, encode_png(annotate(decode_png(rt.png_path.read_bytes()), table)))


def _read_json(rt: RunTable) -> dict:
    try:
        return json.loads(rt.json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {rt.json_path}: {exc}; rerun the harvest or remove that run folder") from None


def _update_long_csv(rt: RunTable, cell: Cell) -> None:
    path = rt.long_csv_path
    if not path.is_file():
        log.warning("%s is missing: only the table's JSON and wide CSV were corrected", path)
        return
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or list(LONG_FIELDS)
        rows = list(reader)
    yes, no = _bool_spelling(rows)
    hit = False
    for r in rows:
        if f"{r['page']}{STEM_SEPARATOR}{r['table']}" == rt.stem and int(r["row"]) == cell.row and int(r["col"]) == cell.col:
            r.update(
                value="" if cell.value is None else str(cell.value),
                needs_review=yes if cell.needs_review else no,
                confirmed=yes if cell.confirmed else no,
            )
            hit = True
    if not hit:
        log.warning("%s has no row for %s cell (%d, %d): left as it was", path, rt.stem, cell.row, cell.col)
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(path) as f:
        f.write(buffer.getvalue())


def _bool_spelling(rows: list[dict]) -> tuple[str, str]:
    """Write booleans the way the robot wrote them in this file."""
    seen = {r.get("needs_review") for r in rows} | {r.get("confirmed") for r in rows}
    for spelling in BOOL_SPELLINGS:
        if seen & set(spelling):
            return spelling
    return BOOL_SPELLINGS[0]
