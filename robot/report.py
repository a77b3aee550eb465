"""The report of `robot report`: every run's long `cells.csv` merged into one export, a per-number frequency summary and a plot.

    robot report [--since 2026-11-01] [--until 2026-11-30] [--out report.csv]

writes `report.csv` (one line per cell, oldest first, the columns of `cells.csv`),
`report.frequency.csv` (value 0..36, count, share, flagged) and `report.png` (the
frequencies as bars). Times are UTC; `--since` is inclusive, `--until` exclusive (a date
alone means the end of that day). pandas loads here; matplotlib only inside `plot_frequency`.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Iterable, Iterator

import pandas as pd

from recognizer.labels import CLASSES
from robot.runfolder import (
    CELLS_CSV,
    CELLS_HEADER,
    CellRow,
    find_cells_files,
    read_cells_csv,
    read_cells_file,
    write_cells_csv,
)
from tablebot.errors import DataError
from tablebot.files import atomic_open

log = logging.getLogger(__name__)

KEY = ["run_id", "page", "table", "row", "col"]  # one cell of one run
COLUMNS = list(CELLS_HEADER)
DEFAULT_OUT = Path("report.csv")
FREQUENCY_SUFFIX = ".frequency.csv"
PLOT_SUFFIX = ".png"
SHARE_DIGITS = 6
PLOT_SIZE_IN = (11.0, 4.5)
PLOT_DPI = 100
BAR_COLOUR = "#2f6f9f"
EXPECTED_COLOUR = "#c0392b"


@dataclass(frozen=True)
class Period:
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC

    def describe(self) -> str:
        start = self.since.strftime("%Y-%m-%d %H:%M:%S") if self.since else "the first run"
        end = self.until.strftime("%Y-%m-%d %H:%M:%S") if self.until else "now"
        return f"from {start} to {end} UTC"


# ---------------------------------------------------------------------------- pure data functions

def read_cells(stream: IO[str], where: str = CELLS_CSV) -> pd.DataFrame:
    """One long CSV as a typed frame: value Int64 (NA when empty), flags as bool, captured_at as UTC times."""
    return cells_frame(read_cells_csv(stream, where))


def cells_frame(rows: Iterable[CellRow]) -> pd.DataFrame:
    frame = pd.DataFrame([dataclasses.astuple(r) for r in rows], columns=COLUMNS)
    return frame.astype({"run_id": str, "page": str, "table": str, "row": int, "col": int, "confidence": float,
                         "needs_review": bool, "confirmed": bool, "value": "Int64"}).assign(
        captured_at=pd.to_datetime(frame["captured_at"], utc=True))


def frame_rows(cells: pd.DataFrame) -> Iterator[CellRow]:
    for r in cells.itertuples(index=False):
        yield CellRow(r.run_id, r.captured_at.to_pydatetime(), r.page, r.table, int(r.row), int(r.col),
                      None if pd.isna(r.value) else int(r.value), float(r.confidence), bool(r.needs_review),
                      bool(r.confirmed))


def merge_cells(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """All frames as one, each cell of each run once, ordered by time, page, table, row, col."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return cells_frame([])
    merged = pd.concat(frames, ignore_index=True).drop_duplicates(subset=KEY, keep="last")
    return merged.sort_values(["captured_at", "page", "table", "row", "col"], kind="stable").reset_index(drop=True)


def select_period(cells: pd.DataFrame, period: Period) -> pd.DataFrame:
    keep = pd.Series(True, index=cells.index)
    if period.since is not None:
        keep &= cells["captured_at"] >= pd.Timestamp(period.since)
    if period.until is not None:
        keep &= cells["captured_at"] < pd.Timestamp(period.until)
    return cells[keep].reset_index(drop=True)


def frequency(cells: pd.DataFrame) -> pd.DataFrame:
    """One line per number 0..36 (zero counts included): count, share of the non-empty cells, how many flagged."""
    read = cells.dropna(subset=["value"])
    values = read["value"].astype(int)
    counts = values.value_counts().reindex(CLASSES, fill_value=0)
    flagged = values[read["needs_review"].to_numpy()].value_counts().reindex(CLASSES, fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame({
        "value": list(CLASSES),
        "count": counts.to_numpy(dtype=int),
        "share": (counts.to_numpy() / total).round(SHARE_DIGITS) if total else 0.0,
        "flagged": flagged.to_numpy(dtype=int),
    })


# ---------------------------------------------------------------------------- stream writers

def write_cells(cells: pd.DataFrame, stream: IO[str]) -> None:
    """The merged export, in the format of a run's `cells.csv`."""
    write_cells_csv(frame_rows(cells), stream)


def write_frequency(freq: pd.DataFrame, stream: IO[str]) -> None:
    freq.to_csv(stream, index=False, lineterminator="\n")


def plot_frequency(freq: pd.DataFrame, stream: IO[bytes], title: str) -> None:
    """A bar per number with the uniform expectation as a line, as PNG into `stream`."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib.figure import Figure

    fig = Figure(figsize=PLOT_SIZE_IN, dpi=PLOT_DPI)
    ax = fig.subplots()
    ax.bar(freq["value"], freq["count"], color=BAR_COLOUR, width=0.8)
    total = int(freq["count"].sum())
    if total:
        ax.axhline(total / len(freq), color=EXPECTED_COLOUR, linestyle="--", linewidth=1,
                   label=f"uniform ({total / len(freq):.1f})")
        ax.legend(loc="upper right")
    ax.set_xticks(list(freq["value"]))
    ax.set_xlim(-0.6, len(freq) - 0.4)
    ax.set_xlabel("number")
    ax.set_ylabel("times read")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(stream, format="png")


# ---------------------------------------------------------------------------- the command

@dataclass(frozen=True)
class ReportFiles:
    cells: Path
    frequency: Path
    plot: Path

    @classmethod
    def beside(cls, out: Path) -> "ReportFiles":
        stem = out.with_suffix("")
        return cls(out, stem.with_name(stem.name + FREQUENCY_SUFFIX), stem.with_name(stem.name + PLOT_SUFFIX))


def build_report(output_folder: Path, period: Period) -> pd.DataFrame:
    paths = find_cells_files(output_folder)
    if not paths:
        raise DataError(f"no run folder with a {CELLS_CSV} in {output_folder}: harvest first (`robot run-once`), "
                        "or check output.folder in the config")
    frames = []
    for path in paths:
        try:
            frames.append(cells_frame(read_cells_file(path)))
        except DataError as exc:
            log.warning("skipped %s: %s", path, str(exc).splitlines()[0])
    cells = select_period(merge_cells(frames), period)
    if cells.empty:
        raise DataError(f"no cells captured {period.describe()} in {output_folder}: widen --since/--until")
    return cells


def write_report(cells: pd.DataFrame, files: ReportFiles, title: str) -> pd.DataFrame:
    freq = frequency(cells)
    with atomic_open(files.cells, "w") as stream:
        write_cells(cells, stream)
    with atomic_open(files.frequency, "w") as stream:
        write_frequency(freq, stream)
    with atomic_open(files.plot, "wb") as stream:
        plot_frequency(freq, stream, title)
    return freq

