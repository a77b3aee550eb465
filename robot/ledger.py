"""The run ledger: one row per run (id, start, end, status, counts, error) and one per failure.

It lives in `<output.folder>/robot.sqlite` beside the run folders. `run_once` writes it as it
goes: a `running` row at the start, a failure row (with the page, the table and the saved
snapshot) as each thing goes wrong, the counts and status at the end. A run still `running`
when the next robot starts was cut off (power loss, `kill -9`) and becomes `abandoned`.
"""
from __future__ import annotations

import enum
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from robot.dedupe import CaptureIndex
from robot.results import Failure
from robot.runfolder import CELLS_CSV, read_cells_file, tables_in
from robot.state import connect, state_path
from tablebot.clock import parse_utc_iso, utc_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    pages INTEGER NOT NULL DEFAULT 0,
    tables INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    cells INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    folder TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    at TEXT NOT NULL,
    page TEXT,
    table_name TEXT,
    error TEXT NOT NULL,
    message TEXT NOT NULL,
    snapshot TEXT
);
CREATE INDEX IF NOT EXISTS failures_run ON failures (run_id);
"""
DEFAULT_LAST_RUNS = 10

log = logging.getLogger(__name__)


class RunStatus(str, enum.Enum):
    RUNNING = "running"  # started, not finished (yet)
    OK = "ok"  # every table captured (or unchanged since an earlier run)
    PARTIAL = "partial"  # finished, but some pages or tables failed
    FAILED = "failed"  # stopped by an error (login refused, output folder unwritable, ...)
    STOPPED = "stopped"  # stopped on request: SIGINT/SIGTERM or the run time limit
    MISSED = "missed"  # the scheduler skipped this run time (robot down longer than the misfire grace)
    ABANDONED = "abandoned"  # its process died mid-run


@dataclass(frozen=True)
class RunCounts:
    pages: int = 0  # pages whose tables were all captured or unchanged
    tables: int = 0  # tables written in this run
    unchanged: int = 0  # tables skipped: already captured by an earlier run
    cells: int = 0
    flagged: int = 0


@dataclass(frozen=True)
class RunRow:
    run_id: str
    started_at: str
    finished_at: str | None
    status: RunStatus
    counts: RunCounts
    error: str | None
    folder: str | None

    @property
    def seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (parse_utc_iso(self.finished_at) - parse_utc_iso(self.started_at)).total_seconds()


@dataclass(frozen=True)
class FailureRow:
    run_id: str
    at: str
    page: str | None
    table: str | None
    error: str
    message: str
    snapshot: str | None


class Ledger:
    """The runs and failures tables of one output folder's `robot.sqlite`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def in_folder(cls, output_folder: Path) -> "Ledger":
        return cls(state_path(output_folder))

    # -- writing --------------------------------------------------------------------
    def run_started(self, run_id: str, started_at: datetime, folder: Path | None = None) -> None:
        with connect(self.path, SCHEMA) as con:
            con.execute("INSERT INTO runs (run_id, started_at, status, folder) VALUES (?, ?, ?, ?)",
                        (run_id, utc_iso(started_at), RunStatus.RUNNING.value, str(folder) if folder else None))

    def failure(self, run_id: str, failure: Failure, snapshot: str | None = None, at: datetime | None = None) -> None:
        with connect(self.path, SCHEMA) as con:
            con.execute(
                "INSERT INTO failures (run_id, at, page, table_name, error, message, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, utc_iso(at), failure.page, failure.table_name, failure.error, failure.message, snapshot),
            )

    def run_finished(self, run_id: str, finished_at: datetime, status: RunStatus, counts: RunCounts,
                     error: str | None = None) -> None:
        with connect(self.path, SCHEMA) as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, pages = ?, tables = ?, unchanged = ?, cells = ?, "
                "flagged = ?, error = ? WHERE run_id = ?",
                (utc_iso(finished_at), status.value, counts.pages, counts.tables, counts.unchanged, counts.cells,
                 counts.flagged, error, run_id),
            )

    def run_missed(self, scheduled_for: datetime, reason: str) -> str:
        """A run the scheduler skipped; its id is `missed-<scheduled time>`."""
        run_id = f"missed-{scheduled_for.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
        with connect(self.path, SCHEMA) as con:
            con.execute(
                "INSERT OR IGNORE INTO runs (run_id, started_at, finished_at, status, error) VALUES (?, ?, ?, ?, ?)",
                (run_id, utc_iso(scheduled_for), utc_iso(), RunStatus.MISSED.value, reason),
            )
        return run_id

    def run_recovered(self, run_id: str, counts: RunCounts) -> None:
        """What a cut-off run had written (from its cells.csv), in place of the counts it never got to record."""
        with connect(self.path, SCHEMA) as con:
            con.execute("UPDATE runs SET pages = ?, tables = ?, cells = ?, flagged = ? WHERE run_id = ?",
                        (counts.pages, counts.tables, counts.cells, counts.flagged, run_id))

    def abandon_unfinished(self) -> list[str]:
        """Mark runs left `running` by a process that died as `abandoned`. Call only while holding the folder's lock."""
        with connect(self.path, SCHEMA) as con:
            ids = [r["run_id"] for r in con.execute("SELECT run_id FROM runs WHERE status = ?", (RunStatus.RUNNING.value,))]
            con.execute(
                "UPDATE runs SET status = ?, error = COALESCE(error, ?) WHERE status = ?",
                (RunStatus.ABANDONED.value, "the robot process ended in the middle of this run", RunStatus.RUNNING.value),
            )
        return ids

    # -- reading (never creates the file) ----------------------------------------------
    def last_runs(self, count: int = DEFAULT_LAST_RUNS) -> list[RunRow]:
        """The latest `count` runs, newest first."""
        with connect(self.path, readonly=True) as con:
            if con is None or not _has_table(con, "runs"):
                return []
            rows = con.execute("SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?", (count,)).fetchall()
        return [_run_row(r) for r in rows]

    def run(self, run_id: str) -> RunRow | None:
        with connect(self.path, readonly=True) as con:
            if con is None or not _has_table(con, "runs"):
                return None
            row = con.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return _run_row(row) if row else None

    def failures_of(self, run_id: str) -> list[FailureRow]:
        with connect(self.path, readonly=True) as con:
            if con is None or not _has_table(con, "failures"):
                return []
            rows = con.execute("SELECT * FROM failures WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
        return [FailureRow(r["run_id"], r["at"], r["page"], r["table_name"], r["error"], r["message"], r["snapshot"])
                for r in rows]


def recover_cut_off_runs(output_folder: Path) -> list[str]:
    """Runs a dead process left `running` become `abandoned` with the tables their `cells.csv` holds
    counted, and those tables are indexed, so that the next run does not write them again. Call only
    while holding the folder's lock."""
    ledger, index = Ledger.in_folder(output_folder), CaptureIndex.in_folder(output_folder)
    cut_off = ledger.abandon_unfinished()
    for run_id in cut_off:
        rows = read_cells_file(Path(output_folder) / run_id / CELLS_CSV)
        ledger.run_recovered(run_id, RunCounts(tables=len(tables_in(rows)), cells=len(rows),
                                               flagged=sum(r.needs_review for r in rows)))
        added = index.index_run_folder(Path(output_folder) / run_id)
        log.warning("run %s was cut off when its process ended; %d of its tables are kept and indexed", run_id, added)
    return cut_off


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _run_row(r: sqlite3.Row) -> RunRow:
    counts = RunCounts(r["pages"], r["tables"], r["unchanged"], r["cells"], r["flagged"])
    return RunRow(r["run_id"], r["started_at"], r["finished_at"], RunStatus(r["status"]), counts, r["error"], r["folder"])
