"""One harvest: open the browser, log in, capture each table, read it, write the run folder, report.

`run_once` is what `robot run-once` calls and what `robot run` schedules. Its collaborators
(the browser opener and the reader factory, `RunParts`) are passed in; the recognizer (and
with it the model, run by LiteRT) is loaded once per run, before any browser work.
Each page is tried again after a transient failure (`robot.retry`): HTTP 5xx, a time-out,
an expired session (log in again), a crashed browser (start a new one); a page that still
fails is recorded and the run goes on with the next. A refused login stops the run at once.
Every table goes through the run's sinks as soon as it is read (its files in the run folder,
then the capture index), and a table an earlier run already captured is skipped
(`robot.dedupe`). The run and its failures go into the ledger (`robot.ledger`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from recognizer.errors import InputImageError
from recognizer.imageio import decode_image
from recognizer.settings import ModelSettings, TableShape
from recognizer.table import Box, Table
from robot.browser.manage import open_browser
from robot.browser.redaction import secrets_hidden_from_logs
from robot.config import AppConfig, Page, TableSpec, TargetKind
from robot.control import RunControl
from robot.dedupe import CaptureIndex, image_digest, table_digest
from robot.errors import (
    ActionFailed,
    InvalidSelector,
    PageNotFound,
    RunStopped,
    SiteUnreachable,
    TableNotFound,
)
from robot.ledger import Ledger, RunCounts, RunStatus
from robot.results import (
    CapturedTable,
    Failure,
    Progress,
    RunResult,
    Unchanged,
    table_stem,
)
from robot.retry import retrying
from robot.runfolder import (
    add_table,
    new_run_id,
    write_failed_table_image,
    write_run_files,
)
from robot.session import BrowserSession, Opener, SessionSettings, Site
from tablebot.clock import utc_now
from tablebot.errors import ExitCode, TableBotError

log = logging.getLogger(__name__)

DEMO_SECRET_BYTES = 16  # length of a generated one-off demo login
DEMO_USER_LABEL = "the one-off demo user"  # how messages name a generated demo user
LOGIN_STEP = "login"  # how the ledger names failures of the login step

# Errors that spoil one table only: the run records them and goes on with the next table.
TABLE_ERRORS = (TableNotFound, InvalidSelector, InputImageError)
# Errors that spoil one page once its retries are spent: the run records them and goes on with the next page.
PAGE_ERRORS = (SiteUnreachable, PageNotFound)

ProgressCallback = Callable[[Progress], None]
Sink = Callable[[CapturedTable], None]  # takes each table as it is read, in order


class Reader(Protocol):
    """What run_once needs from the recognizer (`recognizer.predictor.TableReader`)."""

    def read(self, image: np.ndarray, shape: TableShape | None = None, source: str = "", *,
             refuse_unreadable: bool = True) -> Table: ...

    def read_boxes(self, image: np.ndarray, boxes: Sequence[Box], shape: TableShape, source: str = "", *,
                   refuse_unreadable: bool = True) -> Table: ...


def load_reader(settings: ModelSettings) -> Reader:
    # The model loads here, not at robot start-up.
    from recognizer.predictor import TableReader

    return TableReader.from_settings(settings)


@dataclass(frozen=True)
class RunParts:
    """What a run uses besides its config. The defaults are the real ones; tests pass fakes."""

    open_browser: Opener = open_browser
    load_reader: Callable[[ModelSettings], Reader] = load_reader


def run_once(config: AppConfig, *, parts: RunParts = RunParts(), keep_artifacts: bool = True,
             on_progress: ProgressCallback | None = None, control: RunControl | None = None,
             deduplicate: bool | None = None) -> RunResult:
    """Harvest every table of `config.pages` once into `<output.folder>/<run_id>/`.

    A table that is missing or unreadable, or a page that still fails after its retries, is
    recorded in `RunResult.errors` and the run goes on; a refused login, a browser that cannot
    be (re)started, an unwritable output folder or a stop request (`control`) stop the run with
    the error (after `run.json` and the ledger record it). `keep_artifacts=False` writes no
    screenshots and no failure snapshots. `deduplicate` overrides `output.deduplicate`.
    """
    control = control or RunControl()
    started_at = utc_now()
    reader = parts.load_reader(config.model)
    run_id = new_run_id(started_at)
    folder = config.output.folder / run_id
    index = CaptureIndex.in_folder(config.output.folder) \
        if (config.output.deduplicate if deduplicate is None else deduplicate) else None
    files = RunFolderSink(folder, run_id, screenshots=keep_artifacts and config.output.keep_screenshots)
    sinks: list[Sink] = [files] + ([IndexSink(index, run_id)] if index is not None else [])
    run = RunRecord(run_id, started_at, folder, config.pages, Ledger.in_folder(config.output.folder),
                    attempts=config.retry.attempts, sinks=sinks, on_progress=on_progress, files=files.files)
    run.start()
    log.info("run %s: %d tables on %d pages", run_id, run.total, len(config.pages))
    browser: BrowserSession | None = None
    try:
        with target_site(config) as site, secrets_hidden_from_logs(site.secrets + typed_secrets(config),
                                                                   (site.username,)), \
                BrowserSession(SessionSettings.of(config), site, folder if keep_artifacts else None, control,
                               parts.open_browser) as browser, \
                browser.snapshot_on_failure():
            run.target_url = site.base_url
            retrying(browser.login, config.retry, control, what=LOGIN_STEP, recover=browser.recover,
                     on_retry=run.retried(LOGIN_STEP))
            for page in config.pages:
                control.check()
                try:
                    retrying(lambda: read_page(browser, reader, page, run, index, config.model.max_pixels),
                             config.retry, control, what=f"page {page.name}", recover=browser.recover,
                             on_retry=run.retried(page.name))
                except PAGE_ERRORS as exc:
                    snapshot = browser.snapshot(page.name, exc)
                    log.warning("%s: %s", page.name, exc)
                    run.add(Failure.from_error(exc, page.name, snapshot=snapshot), tables=len(run.pending(page)))
        return run.finish()
    except (TableBotError, KeyboardInterrupt) as exc:
        run.stopped_by(exc, browser.snapshot_name(exc) if browser is not None else None)
        raise


def read_page(browser: BrowserSession, reader: Reader, page: Page, run: "RunRecord", index: CaptureIndex | None,
              max_pixels: int) -> None:
    """Open one page, do its actions, and read those of its tables this run has not done yet (a retry skips
    the others). A required action that fails fails each of those tables with its error. A `name_from` spec
    is expanded here, once per run, into one table per element it matches (`RunRecord.expand`); from then on
    its tables are like configured ones (files, index, progress, retries)."""
    browser.open(page)
    try:
        browser.act(page)
    except ActionFailed as exc:
        snapshot = browser.snapshot(page.name, exc)
        log.warning("%s", exc)
        for spec in run.pending(page):
            run.add(Failure.from_error(exc, page.name, spec.name, snapshot=snapshot))
        return
    for spec in run.pending(page):
        browser.control.check()
        if not spec.is_group:
            run.add(read_table(browser, reader, page, spec, run.run_id, index, max_pixels))
            continue
        try:
            members = browser.members(page, spec)
        except TABLE_ERRORS as exc:
            log.warning("%s/%s: %s", page.name, spec.name, exc)
            run.add(Failure.from_error(exc, page.name, spec.name,
                                       snapshot=browser.snapshot(table_stem(page.name, spec.name), exc)))
            continue
        run.expand(page, spec, members)
        for member in members:
            browser.control.check()
            run.add(read_table(browser, reader, page, member, run.run_id, index, max_pixels))


def read_table(browser: BrowserSession, reader: Reader, page: Page, spec: TableSpec, run_id: str,
               index: CaptureIndex | None, max_pixels: int) -> CapturedTable | Unchanged | Failure:
    """Capture and read one table of the open page. A table an earlier run captured becomes `Unchanged`
    (checked on the image before reading, and on the values after); a missing or unreadable one a `Failure`."""
    stem = table_stem(page.name, spec.name)
    png = None
    try:
        captured = browser.capture(page, spec)
        png = captured.png
        captured_at = utc_now()
        image = decode_image(png, max_pixels, f"the screenshot of {page.name}/{spec.name}")
        image_sha = image_digest(image)
        if index is not None and (seen := index.seen_image(page.name, spec.name, image_sha)):
            return Unchanged(page.name, spec.name, seen.run_id, seen.by)
        if captured.cell_boxes is None:
            table = reader.read(image, spec, source=f"{run_id}/{stem}")
        else:
            table = reader.read_boxes(image, captured.cell_boxes, spec, source=f"{run_id}/{stem}")
    except TABLE_ERRORS as exc:
        snapshot = browser.snapshot(stem, exc)
        log.warning("%s/%s: %s", page.name, spec.name, exc)
        seen = png or getattr(exc, "png", None)  # read and refused, or never ready (TableNotReady)
        kept = write_failed_table_image(browser.folder, stem, seen) if seen and browser.folder is not None else None
        return Failure.from_error(exc, page.name, spec.name, snapshot=snapshot, table_image=kept)
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
        yield Site(config.target.url or "", user, password, env_user_label(config.login.username_env), (password,))
        return
    from robot.demo.server import DemoServer  # Flask only in demo mode

    user, password, label = demo_credentials(config.login.username_env, config.login.password_env)
    demo = config.target.demo
    with DemoServer(username=user, password=password, seed=demo.seed,
                    session_seconds=demo.session_seconds, port=demo.port) as server:
        log.info("demo site (seed %d) serving at %s", demo.seed, server.url)
        hidden = (user, password) if label == DEMO_USER_LABEL else (password,)
        yield Site(server.url, user, password, label, hidden)


def typed_secrets(config: AppConfig) -> tuple[str, ...]:
    """The values of the environment variables that `type` actions type (`text_env`): kept out of the logs."""
    actions = [*config.before_each_page, *(a for page in config.pages for a in page.actions)]
    names = {a.text_env for a in actions if getattr(a, "text_env", None)}
    return tuple(v for name in sorted(names) if (v := os.environ.get(name)))


def demo_credentials(username_env: str, password_env: str) -> tuple[str, str, str]:
    """(user, password, label): from the environment where set, else a random one-off login shared with the
    demo site (labelled DEMO_USER_LABEL)."""
    user, password = os.environ.get(username_env), os.environ.get(password_env)
    label = env_user_label(username_env) if user else DEMO_USER_LABEL
    return (user or secrets.token_urlsafe(DEMO_SECRET_BYTES), password or secrets.token_urlsafe(DEMO_SECRET_BYTES), label)


def env_user_label(username_env: str) -> str:
    """How messages name a user from the environment: by its variable, never by name (messages reach files)."""
    return f"the user in ${username_env}"


# ---------------------------------------------------------------------------- sinks: where a read table goes

class RunFolderSink:
    """Writes each table's files and adds its lines to the run's `cells.csv` (`robot.runfolder.add_table`:
    whole or not at all, merged with what `robot review` corrected meanwhile). A run cut off keeps every
    table written before it: `robot.ledger.recover_cut_off_runs` counts and indexes them at the next start."""

    def __init__(self, folder: Path, run_id: str, *, screenshots: bool) -> None:
        self.folder, self.run_id, self.screenshots = folder, run_id, screenshots
        self.files: dict[str, list[str]] = {}  # stem -> the files written for it, for run.json

    def __call__(self, item: CapturedTable) -> None:
        self.files[item.stem] = add_table(self.folder, item, screenshots=self.screenshots, run_id=self.run_id)


class IndexSink:
    """Records each written table in the capture index, so that later runs do not write it again.
    It comes after the run folder's sink: a crash in between captures the table again rather than lose it."""

    def __init__(self, index: CaptureIndex, run_id: str) -> None:
        self.index, self.run_id = index, run_id

    def __call__(self, item: CapturedTable) -> None:
        self.index.record(item.page, item.table_name, image_sha256=item.image_sha256,
                          values_sha256=item.values_sha256, run_id=self.run_id, captured_at=item.captured_at)


# ---------------------------------------------------------------------------- the run's record

class RunRecord:
    """A run's outcomes as they come: each read table goes through the sinks, each failure into the
    ledger, each outcome to `on_progress`; `finish` writes run.json and closes the ledger row."""

    def __init__(self, run_id: str, started_at: datetime, folder: Path, pages: list[Page], ledger: Ledger, *,
                 attempts: int, sinks: list[Sink], on_progress: ProgressCallback | None,
                 files: dict[str, list[str]]) -> None:
        self.run_id, self.started_at, self.folder, self.pages = run_id, started_at, folder, pages
        self.ledger, self.attempts, self.sinks, self.on_progress = ledger, attempts, sinks, on_progress
        self.files = files  # stem -> file names, as the run folder's sink wrote them
        self.total = sum(len(page.tables) for page in pages)  # a name_from spec counts once until it is expanded
        self.groups: dict[tuple[str, str], list[TableSpec]] = {}  # (page, name_from spec) -> its tables
        self.target_url = ""
        self.items: list[CapturedTable | Unchanged | Failure] = []
        self.done = 0  # tables settled: written, unchanged or failed

    def start(self) -> None:
        """The ledger's `running` row; an unwritable output folder fails here, before any browser work."""
        self.ledger.run_started(self.run_id, self.started_at, self.folder)

    def tables(self, page: Page) -> list[TableSpec]:
        """The page's tables as this run knows them: a `name_from` spec already expanded stands for its tables."""
        return [t for spec in page.tables for t in self.groups.get((page.name, spec.name), [spec])]

    def pending(self, page: Page) -> list[TableSpec]:
        """The page's tables not captured (nor found unchanged, nor failed) in this run yet; a `name_from` spec
        not expanded yet is one of them, until it is expanded or has failed as a whole."""
        done = {i.table_name for i in self.items if i.page == page.name}
        return [spec for spec in self.tables(page) if spec.name not in done]

    def expand(self, page: Page, spec: TableSpec, members: list[TableSpec]) -> None:
        """Record the tables a `name_from` spec found on its page: they replace it in `tables`, `pending`
        and `total` for the rest of the run (a retried page captures the same ones, the missing ones only)."""
        self.groups[(page.name, spec.name)] = members
        self.total += len(members) - 1
        log.info("%s/%s: %d tables (%s)", page.name, spec.name, len(members), ", ".join(m.name for m in members))

    def add(self, item: CapturedTable | Unchanged | Failure, tables: int = 1) -> None:
        """Record one table's outcome (or a page's failure, which settles `tables` tables)."""
        if isinstance(item, CapturedTable):
            for sink in self.sinks:
                sink(item)
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
            target_url=self.target_url, tables=tuple(i for i in self.items if isinstance(i, CapturedTable)),
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
        pages = sum(all((p.name, t.name) in settled for t in self.tables(p)) for p in self.pages)
        return RunCounts(pages, len(result.tables), len(result.unchanged), result.cells, result.flagged)

    @staticmethod
    def _ledger(write: Callable, *args) -> None:
        """Ledger writes during and after a run: a failing one (disk full) is logged, the run's own error matters more."""
        try:
            write(*args)
        except TableBotError as exc:
            log.warning("could not write the run ledger: %s", exc)
