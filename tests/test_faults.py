"""Fault handling inside a run, with the fake browser (fast): retries with backoff, re-login, browser
restarts, fail-fast login, stop requests, an unwritable or full output folder, the ledger's record.

The same faults against the real demo site in headless Chromium are in test_faults_e2e.py.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from recognizer.settings import TableShape
from robot.config import Retry, load_config
from robot.control import RunControl
from robot.errors import (
    BrowserError,
    LoginFailed,
    PageLoadFailed,
    RunStopped,
    SiteUnreachable,
)
from robot.ledger import Ledger, RunStatus, recover_cut_off_runs
from robot.results import CapturedTable
from robot.retry import backoff_s, retrying
from robot.run import RunParts, run_once
from robot.runfolder import cell_rows, write_cells_file
from tablebot.errors import ExitCode, OutputError
from tests import fs_faults
from tests.robot_fakes import (
    FAKE_PASSWORD,
    FAKE_USER,
    FakeDriver,
    FakeReader,
    fake_parts,
    grid_png,
)

STEMS = ["light__main", "dark__main", "roulette__main", "roulette__small", "zebra__main"]


@pytest.fixture
def config_for(write_config, monkeypatch):
    monkeypatch.setenv("ROBOT_USERNAME", FAKE_USER)
    monkeypatch.setenv("ROBOT_PASSWORD", FAKE_PASSWORD)

    def make(**overrides):
        base = {"target": {"kind": "url", "url": "http://fake.test"}, "browser": {"wait_timeout_s": 0.3},
                "retry": {"backoff_s": 0.01}}
        for key, value in overrides.items():
            base[key] = {**base.get(key, {}), **value}
        return load_config(write_config(base))

    return make


class Browsers:
    """open_browser for run_once: a new FakeDriver over the same fake site each time it is called."""

    def __init__(self, site):
        self.site = site
        self.drivers: list[FakeDriver] = []

    @contextlib.contextmanager
    def open(self, settings):
        driver = FakeDriver(self.site)
        self.drivers.append(driver)
        try:
            yield driver
        finally:
            driver.quit()

    @property
    def login_pages(self) -> int:
        return sum(u.endswith("/login") for d in self.drivers for u in d.visited)


@pytest.fixture
def browsers(fake_site) -> Browsers:
    return Browsers(fake_site)


@pytest.fixture
def parts(browsers, reader) -> RunParts:
    # Looked up at each start, so that a test can replace `browsers.open`.
    return fake_parts(reader, lambda settings: browsers.open(settings))


def ledger_of(config):
    ledger = Ledger.in_folder(config.output.folder)
    run = ledger.last_runs(1)[0]
    return run, ledger.failures_of(run.run_id)


def after_tables(n: int, action):
    """An on_progress callback that calls `action()` once, after the n-th table."""

    def progress(p):
        if p.done == n:
            action()

    return progress


# ---------------------------------------------------------------------------- the retry helper

def test_backoff_doubles_up_to_the_maximum():
    policy = Retry(backoff_s=2, backoff_max_s=5)
    assert [backoff_s(n, policy) for n in (1, 2, 3, 4)] == [2, 4, 5, 5]


def test_retrying_tries_transient_errors_a_bounded_number_of_times():
    calls, recovered, retried = [], [], []

    def flaky():
        calls.append(time.monotonic())
        raise PageLoadFailed("HTTP 503")

    with pytest.raises(PageLoadFailed):
        retrying(flaky, Retry(attempts=3, backoff_s=0.05), RunControl(), what="page",
                 recover=recovered.append, on_retry=lambda exc, n: retried.append(n))
    assert len(calls) == 3 and retried == [1, 2] and len(recovered) == 2
    assert calls[1] - calls[0] >= 0.05 and calls[2] - calls[1] >= 0.1  # backoff, doubled


def test_retrying_raises_other_errors_at_once():
    calls = []

    def refused():
        calls.append(1)
        raise LoginFailed("refused")

    with pytest.raises(LoginFailed):
        retrying(refused, Retry(attempts=5, backoff_s=0), RunControl(), what="login")
    assert calls == [1]


def test_a_stop_request_ends_the_backoff_at_once():
    control = RunControl()

    def failing():
        control.request_stop("SIGTERM")
        raise SiteUnreachable("down")

    started = time.monotonic()
    with pytest.raises(RunStopped, match="SIGTERM"):
        retrying(failing, Retry(attempts=5, backoff_s=60), control, what="page")
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------- transient site errors

def test_http_500_twice_is_retried_and_the_run_completes(parts, config_for, browsers, reader, fake_site):
    config = config_for()
    fake_site.http_errors["/tables/dark"] = [500, 503]
    result = run_once(config, parts=parts)
    assert result.ok and [t.stem for t in result.tables] == STEMS
    run, failures = ledger_of(config)
    assert run.status is RunStatus.OK and run.counts.tables == 5
    assert [(f.page, f.error) for f in failures] == [("dark", "PageLoadFailed")] * 2
    assert "HTTP 500" in failures[0].message and "(try 1 of 3; retried)" in failures[0].message
    assert not list(result.folder.glob("failure__*"))  # retried tries save no snapshot


def test_a_page_failing_every_try_is_recorded_once_and_the_run_goes_on(parts, config_for, browsers, reader, fake_site):
    config = config_for(retry={"attempts": 2})
    fake_site.http_errors["/tables/roulette"] = [500] * 5
    result = run_once(config, parts=parts)
    assert [t.stem for t in result.tables] == ["light__main", "dark__main", "zebra__main"]
    (failure,) = result.errors
    assert (failure.where, failure.error, failure.snapshot) == ("roulette", "PageLoadFailed", "failure__roulette")
    assert result.exit_code == ExitCode.TARGET
    assert sorted(p.name for p in result.folder.glob("failure__*")) == ["failure__roulette.html", "failure__roulette.png"]
    run, failures = ledger_of(config)
    assert run.status is RunStatus.PARTIAL and run.counts.pages == 3 and "HTTP 500" in run.error
    assert [(f.page, f.table, f.snapshot) for f in failures] == [("roulette", None, None), ("roulette", None, "failure__roulette")]
    assert json.loads((result.folder / "run.json").read_text())["errors"][0]["snapshot"] == "failure__roulette"


def test_http_404_is_not_retried(parts, config_for, browsers, reader, fake_site):
    config = config_for()
    fake_site.http_errors["/tables/zebra"] = [404, 404, 404]
    result = run_once(config, parts=parts)
    assert [(f.where, f.error) for f in result.errors] == [("zebra", "PageNotFound")]
    assert fake_site.http_errors["/tables/zebra"] == [404, 404]  # visited once
    assert "check the page's path" in result.errors[0].message


def test_http_500_on_the_login_form_is_retried(parts, config_for, browsers, reader, fake_site):
    fake_site.http_errors["/login"] = [502]
    result = run_once(config_for(), parts=parts)
    assert result.ok and len(result.tables) == 5
    assert [(f.page, f.error) for f in ledger_of(config_for())[1]] == [("login", "PageLoadFailed")]


# ---------------------------------------------------------------------------- the session and the browser

def test_an_expired_session_logs_in_again_and_the_run_goes_on(parts, config_for, browsers, reader, fake_site):
    config = config_for()

    def expire():
        for driver in browsers.drivers:
            driver.logged_in = False  # the site forgot the session

    result = run_once(config, parts=parts, on_progress=after_tables(2, expire))
    assert result.ok and [t.stem for t in result.tables] == STEMS
    assert browsers.login_pages == 2  # logged in twice
    run, failures = ledger_of(config)
    assert run.status is RunStatus.OK and [(f.page, f.error) for f in failures] == [("roulette", "SessionExpired")]


def test_a_session_that_keeps_expiring_stops_the_run_after_the_relogin_budget(parts, config_for, browsers, reader, fake_site):
    config = config_for(retry={"relogins": 1, "attempts": 5})
    fake_site.expired = True
    with pytest.raises(LoginFailed, match="the session expired 2 times in this run"):
        run_once(config, parts=parts)
    run, _ = ledger_of(config)
    assert run.status is RunStatus.FAILED and "retry.relogins" in run.error


def test_a_crashed_browser_is_restarted_and_the_run_goes_on_with_the_remaining_pages(parts, config_for, browsers, reader):
    config = config_for()

    def crash():
        browsers.drivers[-1].crashed = True

    result = run_once(config, parts=parts, on_progress=after_tables(1, crash))
    assert result.ok and [t.stem for t in result.tables] == STEMS
    assert len(browsers.drivers) == 2 and all(d.quit_called for d in browsers.drivers)
    assert reader.calls.count(f"{result.run_id}/light__main") == 1  # the table done before the crash is not redone
    run, failures = ledger_of(config)
    assert run.status is RunStatus.OK and [(f.page, f.error) for f in failures] == [("dark", "BrowserCrashed")]


def test_a_browser_that_keeps_crashing_stops_the_run(config_for, browsers, reader):
    config = config_for(retry={"browser_restarts": 1, "attempts": 5})

    def crash_every_browser(p):
        browsers.drivers[-1].crashed = True

    real_open = browsers.open

    @contextlib.contextmanager
    def crashing(settings):
        with real_open(settings) as driver:
            if len(browsers.drivers) > 1:
                driver.crashed = True
            yield driver

    with pytest.raises(BrowserError, match="the browser crashed 2 times in this run") as info:
        run_once(config, parts=fake_parts(reader, crashing), on_progress=crash_every_browser)
    assert type(info.value) is BrowserError and info.value.exit_code == ExitCode.BROWSER
    run, _ = ledger_of(config)
    assert run.status is RunStatus.FAILED and len(browsers.drivers) == 2


def test_bad_credentials_fail_fast_without_retrying(parts, config_for, browsers, reader, monkeypatch):
    config = config_for(retry={"attempts": 5, "backoff_s": 30})
    monkeypatch.setenv("ROBOT_PASSWORD", "wrong-" + FAKE_PASSWORD)
    started = time.monotonic()
    with pytest.raises(LoginFailed, match="refused the login"):
        run_once(config, parts=parts)
    assert time.monotonic() - started < 5 and browsers.login_pages == 1 and len(browsers.drivers) == 1
    run, failures = ledger_of(config)
    assert run.status is RunStatus.FAILED
    assert [(f.page, f.error, f.snapshot) for f in failures] == [(None, "LoginFailed", "failure__LoginFailed")]


def test_a_stop_request_finishes_the_current_table_and_records_the_run(parts, config_for, browsers, reader):
    config = config_for()
    control = RunControl()
    with pytest.raises(RunStopped, match="SIGTERM"):
        run_once(config, parts=parts, control=control, on_progress=after_tables(2, lambda: control.request_stop("SIGTERM")))
    run, failures = ledger_of(config)
    assert run.status is RunStatus.STOPPED and run.counts.tables == 2 and failures == []
    folder = config.output.folder / run.run_id
    assert len((folder / "cells.csv").read_text().splitlines()) == 1 + 2 * 120
    assert not list(folder.glob("failure__*"))
    assert all(d.quit_called for d in browsers.drivers)


# ---------------------------------------------------------------------------- the output folder

def earlier_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_unwritable_output_folder_fails_before_any_browser_work(parts, config_for, browsers, reader, tmp_path):
    out = tmp_path / "ro"
    config = config_for(output={"folder": str(out)})
    with fs_faults.tmpfs(out, "4m"):
        first = run_once(config, parts=parts)
        before = earlier_files(out)
        with fs_faults.readonly(out):
            with pytest.raises(OutputError, match=r"cannot write .*robot\.sqlite.*choose a writable output.folder"):
                run_once(config, parts=parts)
            assert earlier_files(out) == before
    assert len(browsers.drivers) == 1 and first.ok  # the failed run never opened a browser


def test_a_full_disk_fails_with_a_clear_message_and_leaves_earlier_files_intact(parts, config_for, browsers, reader, tmp_path):
    """'Full' is a real tmpfs of 2 MiB filled to the last ~12 KiB (needs root; skipped elsewhere)."""
    out = tmp_path / "small"
    config = config_for(output={"folder": str(out)})
    with fs_faults.tmpfs(out, "2m"):
        first = run_once(config, parts=parts)
        filler = fs_faults.fill(out, leave_bytes=12 * 1024)
        before = {k: v for k, v in earlier_files(out).items() if k != filler.name}
        with pytest.raises(OutputError, match="disk full while writing .*free some space; earlier (files|runs) are intact"):
            run_once(config, parts=parts, deduplicate=False)  # the ledger or a table file: whichever meets the full disk first
        after = {k: v for k, v in earlier_files(out).items() if k != filler.name}
        assert {k: v for k, v in after.items() if k in before and k != "robot.sqlite"} == \
               {k: v for k, v in before.items() if k != "robot.sqlite"}
        assert not [p for p in out.rglob(".*.tmp")]  # no half-written temp files
    assert first.ok


def test_disk_full_without_a_tmpfs(parts, config_for, browsers, reader, monkeypatch):
    """The same fault where no tmpfs can be mounted: os.replace (atomic_open's rename) raises ENOSPC."""
    config = config_for()
    first = run_once(config, parts=parts)
    before = earlier_files(config.output.folder)
    real_replace = os.replace

    def full(src, dst):
        if str(dst).endswith(".csv"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OutputError, match="disk full while writing .*light__main.csv"):
        run_once(config, parts=parts, deduplicate=False)
    monkeypatch.setattr(os, "replace", real_replace)
    after = earlier_files(config.output.folder)
    assert {k: after[k] for k in before if k != "robot.sqlite"} == {k: v for k, v in before.items() if k != "robot.sqlite"}
    run, failures = ledger_of(config)
    assert run.status is RunStatus.FAILED and "disk full" in run.error and first.ok
    assert [f.error for f in failures] == ["OutputError"]


# ---------------------------------------------------------------------------- processes left behind

@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc (Linux)")
def test_browser_processes_left_on_a_profile_are_killed(tmp_path):
    from robot.browser.manage import kill_left_behind

    profile = tmp_path / "tablebot-chromium-x"
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", f"--user-data-dir={profile}"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", f"--user-data-dir={profile}-2"])
    try:
        assert kill_left_behind(profile) == [orphan.pid]
        assert orphan.wait(timeout=30) == -9 and other.poll() is None
    finally:
        for proc in (orphan, other):
            proc.kill()
            proc.wait()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc (Linux)")
def test_profiles_of_dead_robots_are_reaped_and_live_ones_kept(tmp_path):
    from robot.browser.manage import new_profile, reap_left_behind

    dead_robot = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_robot.wait()
    dead = tmp_path / f"tablebot-chromium-{dead_robot.pid}-abc"
    mine = new_profile(tmp_path)  # this process is alive: kept
    old_idle, old_busy = tmp_path / "tablebot-chromium-xyz", tmp_path / "tablebot-chromium-busy"
    for folder in (dead, old_idle, old_busy):
        folder.mkdir()
        (folder / "Web Data").write_text("the user name, say")
    sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
    on_dead = subprocess.Popen([*sleep, f"--user-data-dir={dead}"])
    on_old = subprocess.Popen([*sleep, f"--user-data-dir={old_busy}"])
    try:
        for proc, folder in ((on_dead, dead), (on_old, old_busy)):  # a new child shows its argv once it has exec'd
            deadline = time.monotonic() + 10
            while f"--user-data-dir={folder}".encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
                assert time.monotonic() < deadline, "the stand-in browser never started"
                time.sleep(0.01)
        assert mine.name.startswith(f"tablebot-chromium-{os.getpid()}-")
        assert sorted(reap_left_behind(tmp_path)) == sorted([dead, old_idle])
        assert on_dead.wait(timeout=30) == -9 and on_old.poll() is None
        assert mine.is_dir() and old_busy.is_dir() and not dead.exists() and not old_idle.exists()
    finally:
        for proc in (on_dead, on_old):
            proc.kill()
            proc.wait()


def test_a_cut_off_run_is_abandoned_with_the_tables_its_cells_csv_holds(tmp_path):
    folder = tmp_path / "runs"
    ledger = Ledger.in_folder(folder)
    at = datetime(2026, 11, 20, tzinfo=timezone.utc)
    ledger.run_started("20261120T000000Z-aaaaaa", at, folder / "20261120T000000Z-aaaaaa")
    flagged = {("light", "main", 0, 0)}
    tables = [FakeReader(flag=flagged).read(np.zeros((80, 150, 3), np.uint8), TableShape(rows=8, cols=15), f"r/{page}__main")
              for page in ("light", "dark")]
    rows = [r for page, t in zip(("light", "dark"), tables)
            for r in cell_rows("20261120T000000Z-aaaaaa", CapturedTable(page, "main", at, grid_png(2, 2), t, "i", "v"))]
    write_cells_file(folder / "20261120T000000Z-aaaaaa", rows)
    assert recover_cut_off_runs(folder) == ["20261120T000000Z-aaaaaa"]
    (run,) = ledger.last_runs()
    assert run.status is RunStatus.ABANDONED
    assert (run.counts.tables, run.counts.cells, run.counts.flagged) == (2, 240, 1)
