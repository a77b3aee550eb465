"""`robot run-once`: the debugging run. Harvest every configured table once, verbose, every artifact kept."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from robot.commands.options import config_option, run_parts
from robot.config import AppConfig, TargetKind, load_config
from robot.control import RunControl, stop_run_on_signals
from robot.errors import DemoCheckFailed
from robot.ledger import recover_cut_off_runs
from robot.lock import OutputLock
from robot.results import CapturedTable, Progress, RunResult, Unchanged
from robot.run import DEMO_SECRET_BYTES, run_once


@click.command("run-once")
@config_option
@click.option("--check-demo", is_flag=True,
              help="Demo target only: compare the written CSVs with the demo site's true values; "
                   "fail below 99% or if any wrong cell is not flagged for review.")
def command(config_path: Path, check_demo: bool) -> None:
    """Harvest every configured table once and write the run folder."""
    config = load_config(config_path)
    if check_demo and config.target.kind is not TargetKind.DEMO:
        raise click.UsageError("--check-demo needs target.kind: demo in the config")
    control = RunControl()
    # SIGINT/SIGTERM: the current table is finished, the browser quit, run.json and the ledger say `stopped`
    # with what was written; then RunStopped exits 130.
    with OutputLock(config.output.folder, "robot run-once"), stop_run_on_signals(control):
        recover_cut_off_runs(config.output.folder)
        # the check compares fresh reads with the truth: nothing is skipped as already captured
        result = run_once(config, parts=run_parts(), on_progress=echo_progress, control=control,
                          deduplicate=False if check_demo else None)
    unchanged = f", {len(result.unchanged)} unchanged since earlier runs" if result.unchanged else ""
    click.echo(f"{len(result.tables)} tables{unchanged}, {result.cells} cells, {result.flagged} flagged for review, "
               f"{result.seconds:.1f} s -> {result.folder}")
    if result.errors:
        for failure in result.errors:
            click.echo(f"error: {failure.where}: {failure.message}", err=True)
        sys.exit(result.exit_code)
    if check_demo:
        check_demo_run(config, result)


def echo_progress(progress: Progress) -> None:
    item, head = progress.item, f"[{progress.done}/{progress.total}]"
    if isinstance(item, CapturedTable):
        empty = sum(c.value is None for c in item.table)
        click.echo(f"{head} {item.page}/{item.table_name}: {item.table.rows}x{item.table.cols}, "
                   f"{empty} empty, {len(item.table.flagged)} flagged")
    elif isinstance(item, Unchanged):
        click.echo(f"{head} {item.page}/{item.table_name}: unchanged (same {item.by} as run {item.same_as_run}), "
                   "not written again")
    else:
        click.echo(f"{head} {item.where}: FAILED ({item.error})")


def check_demo_run(config: AppConfig, result: RunResult) -> None:
    from robot.check import check_run
    from robot.demo.server import DemoServer

    # The truth follows from the seed alone; this server is never started.
    truth_site = DemoServer(username="check", password=secrets.token_urlsafe(DEMO_SECRET_BYTES), seed=config.target.demo.seed)
    report = check_run(result.folder, [(t.page, t.table_name) for t in result.tables], truth_site.truth)
    for t in report.tables:
        click.echo(f"check {t.page}/{t.table}: {t.accuracy:.2%} right ({t.wrong} wrong of {t.cells}, "
                   f"{t.wrong_unflagged} not flagged)")
    click.echo(f"check overall: {report.accuracy:.2%} right, {report.wrong} wrong of {report.cells}, "
               f"{report.wrong_unflagged} wrong and not flagged")
    if not report.passed:
        raise DemoCheckFailed(
            f"the demo check failed: {report.accuracy:.2%} right (needs {report.min_accuracy:.0%}) and "
            f"{report.wrong_unflagged} wrong cells not flagged for review"
        )
    click.echo("check passed")
