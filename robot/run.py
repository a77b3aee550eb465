"""One harvest: open the browser, log in, capture each table, read it, write the run folder, report.

`run_once` is what `robot run-once` calls and what `robot run` schedules. The recognizer
(and with it TensorFlow) is imported inside it, once per run, before any browser work.
"""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Protocol

import click
import numpy as np

from recognizer.errors import InputImageError, TableBotError
from recognizer.imageio import decode_image
from recognizer.settings import ModelSettings, TableShape
from recognizer.table import Table
from robot.browser import Driver, FailureSnapshots, browser_errors, open_browser, secrets_hidden_from_logs
from robot.capture import capture_table, login, open_page
from robot.config import DEFAULT_CONFIG, AppConfig, Page, TableSpec, TargetKind, load_config
from robot.errors import DemoCheckFailed, TableNotFound
from robot.output import new_run_id, write_run_files, write_table_files
from robot.results import CapturedTable, Failure, Progress, RunResult, table_stem

log = logging.getLogger("tablebot.robot.run")

DEMO_SECRET_BYTES = 16  # length of a generated one-off demo login
DEMO_USER_LABEL = "(one-off demo user)"  # how messages name a generated demo user

# Errors that spoil one table only: the run records them and goes on with the next table.
TABLE_ERRORS = (TableNotFound, InputImageError)

ProgressCallback = Callable[[Progress], None]


class Reader(Protocol):
    """What run_once needs from the recognizer (`recognizer.predictor.TableReader`)."""

    def read(self, image: np.ndarray, shape: TableShape | None = None, source: str = "") -> Table: ...


def load_reader(settings: ModelSettings) -> Reader:
    from recognizer.predictor import TableReader  # TensorFlow loads here, not at robot start-up

    return TableReader.from_settings(settings)


def run_once(config: AppConfig, *, keep_artifacts: bool = True, on_progress: ProgressCallback | None = None) -> RunResult:
    """Harvest every table of `config.pages` once into `<output.folder>/<run_id>/`.

    A table that is missing or unreadable is recorded in `RunResult.errors` and the run goes
    on; a failed login, an unreachable site or a broken browser stop the run with the error
    (after `run.json` records it). `keep_artifacts=False` writes no screenshots and no
    failure snapshots, only the CSV/JSON results.
    """
    started_at = utc_now()
    run = _RunRecord(new_run_id(started_at), started_at, config.output.folder, on_progress,
                     total=sum(len(page.tables) for page in config.pages),
                     screenshots=keep_artifacts and config.output.keep_screenshots)
    reader = load_reader(config.model)
    wait_s = config.browser.wait_timeout_s
    log.info("run %s: %d tables on %d pages", run.run_id, run.total, len(config.pages))
    try:
        with target_site(config) as site, secrets_hidden_from_logs(site.secrets), \
                open_browser(config.browser) as driver, browser_errors():
            run.target_url = site.base_url
            snapshots = FailureSnapshots(driver, run.folder if keep_artifacts else None, site.secrets)
            with snapshots.on_failure():
                login(driver, site.base_url, config.login, site.username, site.password,
                      timeout=wait_s, user_label=site.user_label)
                for page in config.pages:
                    open_page(driver, site.base_url, page, config.login)
                    for spec in page.tables:
                        run.add(read_table(driver, reader, page, spec, config, run.run_id, snapshots))
    except TableBotError as exc:
        run.stopped_by(exc)
        raise
    return run.finish()


def read_table(
    driver: Driver, reader: Reader, page: Page, spec: TableSpec, config: AppConfig, run_id: str,
    snapshots: FailureSnapshots,
) -> CapturedTable | Failure:
    """Capture and read one table of the open page; a missing or unreadable table becomes a `Failure`."""
    stem = table_stem(page.name, spec.name)
    try:
        with snapshots.on_failure(stem):
            png = capture_table(driver, page, spec, timeout=config.browser.wait_timeout_s)
            captured_at = utc_now()
            image = decode_image(png, config.model.max_pixels, f"the screenshot of {page.name}/{spec.name}")
            table = reader.read(image, spec, source=f"{run_id}/{stem}")
    except TABLE_ERRORS as exc:
        log.warning("%s/%s: %s", page.name, spec.name, exc)
        return Failure.from_error(exc, page.name, spec.name)
    return CapturedTable(page.name, spec.name, captured_at, png, table)


# ---------------------------------------------------------------------------- the site and its login

@dataclass(frozen=True)
class Site:
    base_url: str
    username: str = field(repr=False)
    password: str = field(repr=False)
    user_label: str  # how messages name the user
    secrets: tuple[str, ...] = field(repr=False, default=())  # never logged, never written


@contextlib.contextmanager
def target_site(config: AppConfig) -> Iterator[Site]:
    """The site to harvest: `target.url`, or the bundled demo site served for the duration of the run."""
    if config.target.kind is TargetKind.URL:
        user, password = config.login.credentials()
        yield Site(config.target.url or "", user, password, user, (password,))
        return
    from robot.demo.server import DemoServer  # Flask only in demo mode

    user, password, label = demo_credentials(config.login.username_env, config.login.password_env)
    demo = config.target.demo
    with DemoServer(username=user, password=password, seed=demo.seed,
                    session_seconds=demo.session_seconds, port=demo.port) as server:
        log.info("demo site (seed %d) serving at %s", demo.seed, server.url)
        hidden = (password,) if label == user else (user, password)
        yield Site(server.url, user, password, label, hidden)


def demo_credentials(username_env: str, password_env: str) -> tuple[str, str, str]:
    """(user, password, label): from the environment where set, else a random one-off login shared with the demo site."""
    user, password = os.environ.get(username_env), os.environ.get(password_env)
    label = user or DEMO_USER_LABEL
    return (user or secrets.token_urlsafe(DEMO_SECRET_BYTES), password or secrets.token_urlsafe(DEMO_SECRET_BYTES), label)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------- recording

class _RunRecord:
    """Collects a run's tables as they come, writes each table's files at once, reports progress."""

    def __init__(self, run_id: str, started_at: datetime, output_folder: Path, on_progress: ProgressCallback | None,
                 *, total: int, screenshots: bool):
        self.run_id, self.started_at, self.total = run_id, started_at, total
        self.folder = output_folder / run_id
        self.on_progress, self.screenshots = on_progress, screenshots
        self.target_url = ""
        self.items: list[CapturedTable | Failure] = []
        self.files: dict[str, list[str]] = {}

    def add(self, item: CapturedTable | Failure) -> None:
        if isinstance(item, CapturedTable):
            self.files[item.stem] = write_table_files(self.folder, item, screenshots=self.screenshots)
        self.items.append(item)
        if self.on_progress is not None:
            self.on_progress(Progress(len(self.items), self.total, item))

    def finish(self, fatal: Failure | None = None) -> RunResult:
        result = RunResult(
            run_id=self.run_id, started_at=self.started_at, finished_at=utc_now(), folder=self.folder,
            target_url=self.target_url,
            tables=tuple(i for i in self.items if isinstance(i, CapturedTable)),
            errors=tuple(i for i in self.items if isinstance(i, Failure)) + ((fatal,) if fatal else ()),
        )
        write_run_files(result, self.files)
        log.info("run %s written to %s", self.run_id, self.folder)
        return result

    def stopped_by(self, exc: TableBotError) -> None:
        """Record in run.json why the run stopped; the caller re-raises `exc`."""
        try:
            self.finish(Failure.from_error(exc))
        except TableBotError as err:
            log.warning("could not write the run summary: %s", err)


# ---------------------------------------------------------------------------- the command

@click.command("run-once")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_CONFIG,
              show_default=True, help="The config file.")
@click.option("--check-demo", is_flag=True,
              help="Demo target only: compare the written CSVs with the demo site's true values; "
                   "fail below 99% or if any wrong cell is not flagged for review.")
def run_once_command(config_path: Path, check_demo: bool) -> None:
    """Harvest every configured table once and write the run folder."""
    config = load_config(config_path)
    if check_demo and config.target.kind is not TargetKind.DEMO:
        raise click.UsageError("--check-demo needs target.kind: demo in the config")
    result = run_once(config, on_progress=_echo_progress)
    click.echo(f"{len(result.tables)} tables, {result.cells} cells, {result.flagged} flagged for review, "
               f"{result.seconds:.1f} s -> {result.folder}")
    if result.errors:
        for failure in result.errors:
            click.echo(f"error: {failure.where}: {failure.message}", err=True)
        sys.exit(result.exit_code)
    if check_demo:
        _check_demo(config, result)


def _echo_progress(progress: Progress) -> None:
    item, head = progress.item, f"[{progress.done}/{progress.total}]"
    if isinstance(item, CapturedTable):
        empty = sum(c.value is None for c in item.table)
        click.echo(f"{head} {item.page}/{item.table_name}: {item.table.rows}x{item.table.cols}, "
                   f"{empty} empty, {len(item.table.flagged)} flagged")
    else:
        click.echo(f"{head} {item.where}: FAILED ({item.error})")


def _check_demo(config: AppConfig, result: RunResult) -> None:
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

