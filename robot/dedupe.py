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

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from recognizer.table import Table, ValueGrid
from robot.runfolder import CELLS_CSV, read_cells_file, tables_in
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


def values_digest(grid: ValueGrid) -> str:
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
        rows = read_cells_file(Path(run_folder) / CELLS_CSV)
        for (page, table), found in tables_in(rows).items():
            run_id, captured_at, digest = found.run_id, utc_iso(found.captured_at), values_digest(found.grid)
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

