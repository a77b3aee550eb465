"""`robot report`: merge the runs' cells.csv into one CSV, with per-number frequencies and a plot (robot.report)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import click

from robot.commands.options import config_option
from robot.config import load_config
from robot.report import DEFAULT_OUT, Period, ReportFiles, build_report, write_report


@click.command("report")
@config_option
@click.option("--since", help="Only cells captured at or after this UTC date/time (2026-11-01 or 2026-11-01T08:00).")
@click.option("--until", help="Only cells captured before this UTC date/time; a date alone includes that day.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_OUT, show_default=True,
              help="The merged CSV; the frequency CSV and the plot are written beside it.")
def command(config_path: Path, since: str | None, until: str | None, out: Path) -> None:
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
