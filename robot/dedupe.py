"""The capture index: which tables were already written, so that no table is written twice.

A table is "already captured" when the same source (page and table name) showed the same
image (sha256 of its decoded pixels: checked before recognition, which it then saves) or
the same values (sha256 of the read grid: checked before writing). The index lives in the
`captures` table of `<output.folder>/robot.sqlite`; a table enters it only after its files
and the run's `cells.csv` are written, so a crash in between makes the next run capture it
again rather than lose it. `index_run_folder` adds the tables of a run that was cut off
after writing its `cells.csv`, so that a restart does not write them a second time.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence

import numpy as np

from recognizer.table import Table
from robot.state import connect, state_path
from tablebot.clock import utc_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    page TEXT NOT NULL,
    table_name TEXT NOT NULL,
    image_sha256 TEXT,
    values_sha256 TEXT NOT NULL,
    run_id TEXT NOT NULL,
    captured_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS captures_image ON captures (page, table_name, image_sha256)
    WHERE image_sha256 IS NOT NULL;
CREATE INDEX IF NOT EXISTS captures_values ON captures (page, table_name, values_sha256);
"""
CELLS_CSV = "cells.csv"  # the long CSV of a run folder (see robot.output)

Grid = Sequence[Sequence[int | None]]


@dataclass(frozen=True)
class Seen:
    """The earlier capture of a table."""

    run_id: str
    captured_at: str
    by: str  # "image" or "values"


def image_digest(image: np.ndarray) -> str:
    """sha256 of an image's pixels, shape and dtype: the same picture gives the same digest whatever its PNG encoding."""
    h = hashlib.sha256(f"{image.shape}|{image.dtype.str}|".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


def values_digest(grid: Grid) -> str:
    """sha256 of a table's values, row by row (None for empty cells), shape included."""
    rows = [[None if v is None else int(v) for v in row] for row in grid]
    text = json.dumps({"rows": len(rows), "cols": len(rows[0]) if rows else 0, "values": rows}, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def table_digest(table: Table) -> str:
    return values_digest(table.to_grid())


class CaptureIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def in_folder(cls, output_folder: Path) -> "CaptureIndex":
        return cls(state_path(output_folder))

    def seen_image(self, page: str, table: str, image_sha256: str) -> Seen | None:
        return self._find(page, table, "image_sha256", image_sha256, "image")

    def seen_values(self, page: str, table: str, values_sha256: str) -> Seen | None:
        return self._find(page, table, "values_sha256", values_sha256, "values")

    def record(self, page: str, table: str, *, image_sha256: str | None, values_sha256: str, run_id: str,
               captured_at: datetime | str) -> None:
        """Remember a table as captured (an image already known is left as it is)."""
        at = captured_at if isinstance(captured_at, str) else utc_iso(captured_at)
        with connect(self.path, SCHEMA) as con:
            con.execute(
                "INSERT OR IGNORE INTO captures (page, table_name, image_sha256, values_sha256, run_id, captured_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (page, table, image_sha256, values_sha256, run_id, at),
            )

    def index_run_folder(self, run_folder: Path) -> int:
        """Index the tables in a run folder's `cells.csv` that are not indexed yet; returns how many were added."""
        added = 0
        for (page, table), (run_id, captured_at, grid) in read_long_csv(Path(run_folder) / CELLS_CSV).items():
            digest = values_digest(grid)
            with connect(self.path, SCHEMA) as con:
                known = con.execute(
                    "SELECT 1 FROM captures WHERE page = ? AND table_name = ? AND values_sha256 = ? AND run_id = ?",
                    (page, table, digest, run_id),
                ).fetchone()
                if not known:
                    con.execute(
                        "INSERT INTO captures (page, table_name, image_sha256, values_sha256, run_id, captured_at) "
                        "VALUES (?, ?, NULL, ?, ?, ?)", (page, table, digest, run_id, captured_at))
                    added += 1
        return added

    def _find(self, page: str, table: str, column: str, digest: str, by: str) -> Seen | None:
        with connect(self.path, readonly=True) as con:
            if con is None or not con.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'captures'").fetchone():
                return None
            row = con.execute(
                f"SELECT run_id, captured_at FROM captures WHERE page = ? AND table_name = ? AND {column} = ? "
                "ORDER BY id LIMIT 1", (page, table, digest),
            ).fetchone()
        return Seen(row["run_id"], row["captured_at"], by) if row else None


def read_long_csv(path: Path) -> dict[tuple[str, str], tuple[str, str, list[list[int | None]]]]:
    """A run's `cells.csv` as {(page, table): (run_id, captured_at, grid)}; {} when there is none."""
    if not path.is_file():
        return {}
    cells: dict[tuple[str, str], dict[tuple[int, int], int | None]] = {}
    meta: dict[tuple[str, str], tuple[str, str]] = {}
    with open(path, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            key = (row["page"], row["table"])
            meta.setdefault(key, (row["run_id"], row["captured_at"]))
            value = row["value"].strip()
            cells.setdefault(key, {})[(int(row["row"]), int(row["col"]))] = int(value) if value else None
    tables = {}
    for key, by_pos in cells.items():
        rows, cols = max(r for r, _ in by_pos) + 1, max(c for _, c in by_pos) + 1
        grid = [[by_pos.get((r, c)) for c in range(cols)] for r in range(rows)]
        tables[key] = (*meta[key], grid)
    return tables
