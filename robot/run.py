"""One harvest: open the browser, log in, capture each table, read it, write the run folder, report.

`run_once` is what `robot run-once` calls and what `robot run` schedules. The recognizer
(and with it the model, run by LiteRT) is loaded inside it, once per run, before any browser work.
Each page is tried again after a transient failure (`robot.retry`): HTTP 5xx, a time-out,
an expired session (log in again), a crashed browser (start a new one); a page that still
fails is recorded and the run goes on with the next. A refused login stops the run at once.
Every table is written as soon as it is read, and a table an earlier run already captured
is skipped (`robot.dedupe`). The run and its failures go into the ledger (`robot.ledger`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, Protocol

import click
import numpy as np

from recognizer.errors import InputImageError
from recognizer.imageio import decode_image
from recognizer.settings import ModelSettings, TableShape
from recognizer.table import Table
from robot.browser.manage import open_browser
from robot.browser.redaction import secrets_hidden_from_logs
from robot.config import (
    DEFAULT_CONFIG,
    AppConfig,
    Page,
    TableSpec,
    TargetKind,
    load_config,
)
from robot.control import RunControl
from robot.dedupe import CaptureIndex, image_digest, table_digest
from robot.errors import (
    DemoCheckFailed,
    PageNotFound,
    RunStopped,
    SiteUnreachable,
    TableNotFound,
)
from robot.ledger import Ledger, RunCounts, RunStatus, recover_cut_off_runs
from robot.lock import OutputLock
from robot.output import (
    new_run_id,
    write_cells_file,
    write_run_files,
    write_table_files,
)
from robot.results import (
    CapturedTable,
    Failure,
    Progress,
    RunResult,
    Unchanged,
    table_stem,
)
from robot.retry import retrying
from robot.session import BrowserSession, Site
from tablebot.clock import utc_now
from tablebot.errors import ExitCode, TableBotError

log = logging.getLogger("tablebot.robot.run")

DEMO_SECRET_BYTES = 16  # length of a generated one-off demo login
DEMO_USER_LABEL = "(one-off demo user)"  # how messages name a generated demo user
LOGIN_STEP = "login"  # how the ledger names failures of the login step

# Errors that spoil one table only: the run records them and goes on with the next table.
TABLE_ERRORS = (TableNotFound, InputImageError)
# Errors that spoil one page once its retries are spent: the run records them and goes on with the next page.
PAGE_ERRORS = (SiteUnreachable, PageNotFound)

ProgressCallback = Callable[[Progress], None]


class Reader(Protocol):
    """What run_once needs from the recognizer (`recognizer.predictor.TableReader`)."""

    def read(self, image: np.ndarray, shape: TableShape | None = None, source: str = "") -> Table: ...


def load_reader(settings: ModelSettings) -> Reader:
    from recognizer.predictor import (
        TableReader,  # the model loads here, not at robot start-up
    )

    return TableReader.from_settings(settings)


def run_once(config: AppConfig, *, keep_artifacts: bool = True, on_progress: ProgressCallback | None = None,
             control: RunControl | None = None, deduplicate: bool | None = None) -> RunResult:
    """Harvest every table of `config.pages` once into `<output.folder>/<run_id>/`.

    A table that is missing or unreadable, or a page that still fails after its retries, is
    recorded in `RunResult.errors` and the run goes on; a refused login, a browser that cannot
    be (re)started, an unwritable output folder or a stop request (`control`) stop the run with
    the error (after `run.json` and the ledger record it). `keep_artifacts=False` writes no
    screenshots and no failure snapshots. `deduplicate` overrides `output.deduplicate`.
    """
    control = control or RunControl()
    started_at = utc_now()
    reader = load_reader(config.model)
    dedupe = config.output.deduplicate if deduplicate is None else deduplicate
    run = _RunRecord(new_run_id(started_at), started_at, config, on_progress,
                     screenshots=keep_artifacts and config.output.keep_screenshots,
                     index=CaptureIndex.in_folder(config.output.folder) if dedupe else None)
    run.start()
    log.info("run %s: %d tables on %d pages", run.run_id, run.total, len(config.pages))
    browser: BrowserSession | None = None
    try:
        with target_site(config) as site, secrets_hidden_from_logs(site.secrets), \
                BrowserSession(config, site, run.folder if keep_artifacts else None, control, open_browser) as browser, \
                browser.snapshot_on_failure():
            run.target_url = site.base_url
            retrying(browser.login, config.retry, control, what=LOGIN_STEP, recover=browser.recover,
                     on_retry=run.retried(LOGIN_STEP))
            for page in config.pages:
                control.check()
                try:
                    retrying(lambda: read_page(browser, reader, page, config, run), config.retry, control,
                             what=f"page {page.name}", recover=browser.recover, on_retry=run.retried(page.name))
                except PAGE_ERRORS as exc:
                    snapshot = browser.snapshot(page.name, exc)
                    log.warning("%s: %s", page.name, exc)
                    run.add(Failure.from_error(exc, page.name, snapshot=snapshot), tables=len(run.pending(page)))
        return run.finish()
    except (TableBotError, KeyboardInterrupt) as exc:
        run.stopped_by(exc, browser.snapshot_name(exc) if browser is not None else None)
        raise


def read_page(browser: BrowserSession, reader: Reader, page: Page, config: AppConfig, run: "_RunRecord") -> None:
    """Open one page and read those of its tables this run has not done yet (a retry skips the others)."""
    browser.open(page)
    for spec in run.pending(page):
        browser.control.check()
        run.add(read_table(browser, reader, page, spec, config, run.run_id, run.index))


def read_table(
    browser: BrowserSession, reader: Reader, page: Page, spec: TableSpec, config: AppConfig, run_id: str,
    index: CaptureIndex | None,
) -> CapturedTable | Unchanged | Failure:
    """Capture and read one table of the open page. A table an earlier run captured becomes `Unchanged`
    (checked on the image before reading, and on the values after); a missing or unreadable one a `Failure`."""
    stem = table_stem(page.name, spec.name)
    try:
        png = browser.capture(page, spec)
        captured_at = utc_now()
        image = decode_image(png, config.model.max_pixels, f"the screenshot of {page.name}/{spec.name}")
        image_sha = image_digest(image)
        if index is not None and (seen := index.seen_image(page.name, spec.name, image_sha)):
            return Unchanged(page.name, spec.name, seen.run_id, seen.by)
        table = reader.read(image, spec, source=f"{run_id}/{stem}")
    except TABLE_ERRORS as exc:
        snapshot = browser.snapshot(stem, exc)
        log.warning("%s/%s: %s", page.name, spec.name, exc)
        return Failure.from_error(exc, page.name, spec.name, snapshot=snapshot)
    values_sha = table_digest(table)
    if index is not None and (seen := index.seen_values(page.name, spec.name, values_sha)):
        index.record(page.name, spec.name, image_sha256=image_sha, values_sha256=values_sha,
                     run_id=seen.run_id, captured_at=seen.captured_at)
        return Unchanged(page.name, spec.name, seen.run_id, seen.by)
    return CapturedTable(page.name, spec.name, captured_at, png, table, image_sha, values_sha)


# ---------------------------------------------------------------------------- the site and its login

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


# ---------------------------------------------------------------------------- recording

class _RunRecord:
    """Collects a run's tables as they come: writes each table's files and the run's cells.csv at once,
    then indexes the table; records failures in the ledger; reports progress."""

    def __init__(self, run_id: str, started_at: datetime, config: AppConfig, on_progress: ProgressCallback | None,
                 *, screenshots: bool, index: CaptureIndex | None):
        self.run_id, self.started_at = run_id, started_at
        self.pages = config.pages
        self.total = sum(len(page.tables) for page in config.pages)
        self.folder = config.output.folder / run_id
        self.attempts = config.retry.attempts
        self.on_progress, self.screenshots, self.index = on_progress, screenshots, index
        self.ledger = Ledger.in_folder(config.output.folder)
        self.target_url = ""
        self.items: list[CapturedTable | Unchanged | Failure] = []
        self.done = 0  # tables settled: written, unchanged or failed
        self.files: dict[str, list[str]] = {}

    def start(self) -> None:
        """The ledger's `running` row; an unwritable output folder fails here, before any browser work."""
        self.ledger.run_started(self.run_id, self.started_at, self.folder)

    def pending(self, page: Page) -> list[TableSpec]:
        """The page's tables not captured (nor found unchanged, nor failed) in this run yet."""
        done = {i.table_name for i in self.items if i.page == page.name}
        return [spec for spec in page.tables if spec.name not in done]

    @property
    def captured(self) -> list[CapturedTable]:
        return [i for i in self.items if isinstance(i, CapturedTable)]

    def add(self, item: CapturedTable | Unchanged | Failure, tables: int = 1) -> None:
        """Record one table's outcome (or a page's failure, which settles `tables` tables)."""
        if isinstance(item, CapturedTable):
            self.files[item.stem] = write_table_files(self.folder, item, screenshots=self.screenshots)
            write_cells_file(self.folder, self.run_id, [*self.captured, item])
            if self.index is not None:
                self.index.record(item.page, item.table_name, image_sha256=item.image_sha256,
                                  values_sha256=item.values_sha256, run_id=self.run_id, captured_at=item.captured_at)
        elif isinstance(item, Failure):
            self._ledger(self.ledger.failure, self.run_id, item, item.snapshot)
        self.items.append(item)
        self.done += tables
        if self.on_progress is not None:
            self.on_progress(Progress(self.done, self.total, item))

    def retried(self, step: str) -> Callable[[TableBotError, int], None]:
        """For `retrying(on_retry=...)`: a failed try that will be retried goes into the ledger (no snapshot)."""

        def record(exc: TableBotError, attempt: int) -> None:
            failure = Failure(type(exc).__name__, f"{exc} (try {attempt} of {self.attempts}; retried)",
                              int(exc.exit_code), step)
            self._ledger(self.ledger.failure, self.run_id, failure, None)

        return record

    def finish(self, fatal: Failure | None = None, status: RunStatus | None = None) -> RunResult:
        """Write cells.csv and run.json, and close the run's ledger row."""
        failures = tuple(i for i in self.items if isinstance(i, Failure))
        result = RunResult(
            run_id=self.run_id, started_at=self.started_at, finished_at=utc_now(), folder=self.folder,
            target_url=self.target_url, tables=tuple(self.captured),
            errors=failures + ((fatal,) if fatal else ()),
            unchanged=tuple(i for i in self.items if isinstance(i, Unchanged)),
        )
        status = status or (RunStatus.PARTIAL if result.errors else RunStatus.OK)
        try:
            write_run_files(result, self.files)
            log.info("run %s written to %s", self.run_id, self.folder)
        finally:
            self._ledger(self.ledger.run_finished, self.run_id, result.finished_at, status, self._counts(result),
                         result.errors[0].message if result.errors else None)
        return result

    def stopped_by(self, exc: BaseException, snapshot: str | None = None) -> None:
        """Record in run.json and the ledger why the run stopped (`snapshot`: the page saved for `exc`);
        the caller re-raises `exc`."""
        if isinstance(exc, TableBotError):
            fatal = Failure.from_error(exc, snapshot=snapshot)
        else:
            fatal = Failure(type(exc).__name__, "interrupted (Ctrl+C)", int(ExitCode.INTERRUPTED))
        stopped = isinstance(exc, (RunStopped, KeyboardInterrupt))
        if not stopped:
            self._ledger(self.ledger.failure, self.run_id, fatal, fatal.snapshot)
        try:
            self.finish(fatal, RunStatus.STOPPED if stopped else RunStatus.FAILED)
        except TableBotError as err:
            log.warning("could not write the run summary: %s", err)

    def _counts(self, result: RunResult) -> RunCounts:
        settled = {(i.page, i.table_name) for i in self.items if isinstance(i, (CapturedTable, Unchanged))}
        pages = sum(all((p.name, t.name) in settled for t in p.tables) for p in self.pages)
        return RunCounts(pages, len(result.tables), len(result.unchanged), result.cells, result.flagged)

    @staticmethod
    def _ledger(write: Callable, *args) -> None:
        """Ledger writes during and after a run: a failing one (disk full) is logged, the run's own error matters more."""
        try:
            write(*args)
        except TableBotError as exc:
            log.warning("could not write the run ledger: %s", exc)


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
    with OutputLock(config.output.folder, "robot run-once"):
        recover_cut_off_runs(config.output.folder)
        # the check compares fresh reads with the truth: nothing is skipped as already captured
        result = run_once(config, on_progress=_echo_progress, deduplicate=False if check_demo else None)
    unchanged = f", {len(result.unchanged)} unchanged since earlier runs" if result.unchanged else ""
    click.echo(f"{len(result.tables)} tables{unchanged}, {result.cells} cells, {result.flagged} flagged for review, "
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
    elif isinstance(item, Unchanged):
        click.echo(f"{head} {item.page}/{item.table_name}: unchanged (same {item.by} as run {item.same_as_run}), "
                   "not written again")
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

