"""`robot status`: whether the robot is running, when it runs next, and its last runs with their failures."""
from __future__ import annotations

from pathlib import Path

import click

from robot.commands.options import config_option
from robot.config import load_config
from robot.ledger import DEFAULT_LAST_RUNS, FailureRow, Ledger, RunRow
from robot.lock import current_holder
from robot.schedule import describe_next_run


@click.command("status")
@config_option
@click.option("--last", "count", type=click.IntRange(1, 1000), default=DEFAULT_LAST_RUNS, show_default=True,
              help="How many of the latest runs to show.")
@click.option("--failures/--no-failures", default=True, show_default=True, help="List each run's failures below it.")
def command(config_path: Path, count: int, failures: bool) -> None:
    """Show whether the robot is running, when it runs next, and its last runs."""
    config = load_config(config_path)
    folder = config.output.folder
    holder = current_holder(folder)
    click.echo(f"robot: {'running, ' + holder.describe() if holder else 'not running'} (output folder {folder})")
    click.echo(f"next run: {describe_next_run(config)}")
    ledger = Ledger.in_folder(folder)
    runs = ledger.last_runs(count)
    found = {r.run_id: ledger.failures_of(r.run_id) for r in runs} if failures else None
    for line in format_runs(runs, found):
        click.echo(line)


def format_runs(runs: list[RunRow], failures: dict[str, list[FailureRow]] | None = None) -> list[str]:
    """The table `robot status` prints, newest run first; each run's failures indented below it."""
    if not runs:
        return ["no runs yet"]
    header = f"{'run':<26} {'started (UTC)':<20} {'secs':>6} {'status':<9} {'pages':>5} {'tables':>6} " \
             f"{'same':>4} {'cells':>6} {'flag':>5}  error"
    lines = [header]
    for run in runs:
        secs = "" if run.seconds is None else f"{run.seconds:.0f}"
        c = run.counts
        started = run.started_at[:19].replace("T", " ")
        lines.append(f"{run.run_id:<26} {started:<20} {secs:>6} {run.status.value:<9} {c.pages:>5} {c.tables:>6} "
                     f"{c.unchanged:>4} {c.cells:>6} {c.flagged:>5}  {_one_line(run.error)}")
        for f in (failures or {}).get(run.run_id, []):
            where = "/".join(p for p in (f.page, f.table) if p) or "run"
            shot = f" [{f.snapshot}]" if f.snapshot else ""
            lines.append(f"    {where}: {f.error}: {_one_line(f.message)}{shot}")
    return lines


def _one_line(text: str | None) -> str:
    return (text or "").splitlines()[0] if text else ""
