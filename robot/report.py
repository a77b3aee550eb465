"""`robot report`: every run's long `cells.csv` merged into one export, a per-number frequency summary and a plot.

    robot report [--since 2026-11-01] [--until 2026-11-30] [--out report.csv]

writes `report.csv` (one line per cell, oldest first, the columns of `cells.csv`),
`report.frequency.csv` (value 0..36, count, share, flagged) and `report.png` (the
frequencies as bars). Times are UTC; `--since` is inclusive, `--until` exclusive (a date
alone means the end of that day). pandas loads here; matplotlib only inside `plot_frequency`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import IO, Iterable

import click
import pandas as pd

from recognizer.labels import CLASSES
from robot.config import DEFAULT_CONFIG, load_config
from tablebot.errors import DataError
from tablebot.files import atomic_open

log = logging.getLogger("tablebot.robot.report")

CELLS_CSV = "cells.csv"
COLUMNS = ("run_id", "captured_at", "page", "table", "row", "col", "value", "confidence", "needs_review", "confirmed")
KEY = ["run_id", "page", "table", "row", "col"]  # one cell of one run
TRUE_SPELLINGS = frozenset({"true", "True", "TRUE", "1"})
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

def find_long_csvs(output_folder: Path) -> list[Path]:
    """Each run folder's `cells.csv`, oldest run first (run ids sort by time)."""
    folder = Path(output_folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*/{CELLS_CSV}") if not p.parent.name.startswith("."))


def read_cells(stream: IO[str] | Path, where: str = "") -> pd.DataFrame:
    """One long CSV as a typed frame: value Int64 (NA when empty), booleans as bool, captured_at as UTC times."""
    frame = pd.read_csv(stream, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{where or 'the CSV'} lacks the column(s) {', '.join(missing)}: it is not a robot cells.csv")
    return _typed(frame[list(COLUMNS)])


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "run_id": frame["run_id"].astype(str),
        "captured_at": pd.to_datetime(frame["captured_at"], utc=True, format="ISO8601"),
        "page": frame["page"].astype(str),
        "table": frame["table"].astype(str),
        "row": frame["row"].astype(int),
        "col": frame["col"].astype(int),
        "value": pd.to_numeric(frame["value"].replace("", None), errors="raise").astype("Int64"),
        "confidence": pd.to_numeric(frame["confidence"].replace("", None)).astype(float),
        "needs_review": frame["needs_review"].isin(TRUE_SPELLINGS),
        "confirmed": frame["confirmed"].isin(TRUE_SPELLINGS),
    })
    return out


def merge_cells(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """All frames as one, each cell of each run once, ordered by time, page, table, row, col."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _typed(pd.DataFrame({c: pd.Series(dtype=str) for c in COLUMNS}))
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
    out = cells.copy()
    out["captured_at"] = out["captured_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    for flag in ("needs_review", "confirmed"):
        out[flag] = out[flag].map({True: "true", False: "false"})
    out.to_csv(stream, index=False, lineterminator="\n", float_format="%.4f")


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
    paths = find_long_csvs(output_folder)
    if not paths:
        raise DataError(f"no run folder with a {CELLS_CSV} in {output_folder}: harvest first (`robot run-once`), "
                        "or check output.folder in the config")
    frames = []
    for path in paths:
        try:
            frames.append(read_cells(path, str(path)))
        except (DataError, ValueError, pd.errors.ParserError) as exc:
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


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """`2026-11-30` or `2026-11-30T14:00[:00]` (UTC unless an offset is given). A date alone with
    `end_of_day` means the start of the next day, so that `--until DATE` includes DATE."""
    try:
        if len(text) == len("2026-11-30"):
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(), timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (2026-11-30) or a time (2026-11-30T14:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command("report")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_CONFIG,
              show_default=True, help="The config file (its output.folder holds the runs).")
@click.option("--since", help="Only cells captured at or after this UTC date/time (2026-11-01 or 2026-11-01T08:00).")
@click.option("--until", help="Only cells captured before this UTC date/time; a date alone includes that day.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_OUT, show_default=True,
              help="The merged CSV; the frequency CSV and the plot are written beside it.")
def report_command(config_path: Path, since: str | None, until: str | None, out: Path) -> None:
    """Merge the runs' cells.csv into one CSV, with a per-number frequency summary and a plot."""
    config = load_config(config_path)
    period = Period(parse_moment(since) if since else None, parse_moment(until, end_of_day=True) if until else None)
    if period.since and period.until and period.since >= period.until:
        raise click.BadParameter("--since must be before --until")
    cells = build_report(config.output.folder, period)
    files = ReportFiles.beside(out)
    runs, tables = cells["run_id"].nunique(), len(cells.groupby(["run_id", "page", "table"]))
    read = int(cells["value"].notna().sum())
    title = f"{read} numbers read in {tables} tables of {runs} runs, {period.describe()}"
    freq = write_report(cells, files, title)
    top = freq.sort_values("count", ascending=False, kind="stable").head(3)
    click.echo(f"{len(cells)} cells ({read} read, {int(cells['needs_review'].sum())} flagged) from {tables} tables "
               f"of {runs} runs, {period.describe()}")
    click.echo("most frequent: " + ", ".join(f"{v} ({c}x)" for v, c in zip(top["value"], top["count"])))
    click.echo(f"-> {files.cells}, {files.frequency}, {files.plot}")
