"""The faults a real site and a real machine throw at an unattended robot, against the bundled demo site
told to misbehave (robot/demo/faults.py), in real headless Chromium. The fake reader stands in for the
model (its values come from the demo's truth): recognition is not what these test.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import robot.control
import robot.run
from robot.browser.manage import open_browser
from robot.config import load_config
from robot.control import descendants
from robot.errors import LoginFailed
from robot.ledger import Ledger, RunStatus
from robot.run import RunParts, run_once
from tablebot.errors import ExitCode
from tests.robot_fakes import FakeReader, fake_parts

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (shutil.which("chromedriver") and shutil.which("chromium")),
                       reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)"),
]

PROJECT = Path(__file__).resolve().parents[1]
MAIN = {"name": "main", "selector": "#table-main", "rows": 8, "cols": 15}
SMALL = {"name": "small", "selector": "#table-small", "rows": 4, "cols": 10}
PAGES = [
    {"name": "light", "path": "/tables/light", "tables": [MAIN]},
    {"name": "dark", "path": "/tables/dark", "tables": [MAIN]},
    {"name": "roulette", "path": "/tables/roulette", "tables": [MAIN, SMALL]},
    {"name": "zebra", "path": "/tables/zebra", "tables": [MAIN]},
]
ALL = ["light__main", "dark__main", "roulette__main", "roulette__small", "zebra__main"]
PROCESS_TIMEOUT_S = 120


@pytest.fixture
def site_config(demo_server, demo_password, write_config, monkeypatch):
    """config(**sections) for the demo site as a `url` target, with short waits and backoffs."""
    monkeypatch.setenv("ROBOT_USERNAME", "robot")
    monkeypatch.setenv("ROBOT_PASSWORD", demo_password)

    def make(pages=PAGES, **sections):
        base = {"target": {"kind": "url", "url": demo_server.url}, "pages": pages,
                "browser": {"wait_timeout_s": 5, "page_load_timeout_s": 10},
                "retry": {"backoff_s": 0.2, "backoff_max_s": 1}}
        for key, value in sections.items():
            base[key] = {**base.get(key, {}), **value}
        return load_config(write_config(base))

    return make


class Recording(list):
    """The real `open_browser`, remembering every driver it opens, in order."""

    @contextlib.contextmanager
    def __call__(self, settings):
        with open_browser(settings) as driver:
            self.append(driver)
            yield driver


@pytest.fixture
def opened() -> Recording:
    return Recording()


@pytest.fixture
def parts(opened, demo_server) -> RunParts:
    """Runs drive real Chromium (recorded in `opened`) with a reader that knows the demo site's truth."""
    return fake_parts(FakeReader(values=demo_server.truth), opened)


@pytest.fixture
def requests(demo_server) -> list:
    """(method, path) of every request the demo site answers."""
    seen = []
    app = demo_server.app.wsgi_app

    def counting(environ, start_response):
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return app(environ, start_response)

    demo_server.app.wsgi_app = counting
    return seen


def ledger_of(config):
    ledger = Ledger.in_folder(config.output.folder)
    run = ledger.last_runs(1)[0]
    return run, ledger.failures_of(run.run_id)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def driver_pids(driver) -> list[int]:
    pid = driver.service.process.pid
    return [pid, *descendants(pid)]


def after_tables(n: int, action):
    def progress(p):
        if p.done == n:
            action()

    return progress


# ---------------------------------------------------------------------------- the site misbehaves

def test_http_500_is_retried_with_backoff_and_the_run_completes(parts, site_config, demo_server, opened, requests):
    config = site_config()
    demo_server.faults.http_error("dark", 500, times=2)
    result = run_once(config, parts=parts)
    assert result.ok and [t.stem for t in result.tables] == ALL
    assert requests.count(("GET", "/tables/dark")) == 3
    run, failures = ledger_of(config)
    assert run.status is RunStatus.OK and [(f.page, f.error) for f in failures] == [("dark", "PageLoadFailed")] * 2
    assert "answered HTTP 500" in failures[0].message and len(opened) == 1


def test_slow_pages_within_the_timeout_work_and_beyond_it_fail_after_bounded_retries(parts, site_config, demo_server, requests):
    config = site_config(pages=PAGES[:2] + PAGES[3:], browser={"page_load_timeout_s": 2}, retry={"attempts": 2})
    demo_server.faults.slow("light", 0.5)
    demo_server.faults.slow("dark", 6)
    result = run_once(config, parts=parts)
    assert [t.stem for t in result.tables] == ["light__main", "zebra__main"]
    (failure,) = result.errors
    assert (failure.where, failure.error) == ("dark", "SiteUnreachable") and "did not finish loading" in failure.message
    assert requests.count(("GET", "/tables/dark")) == 2  # two tries, then on to the next page
    assert (result.folder / "failure__dark.png").is_file() and (result.folder / "failure__dark.html").is_file()
    run, failures = ledger_of(config)
    assert run.status is RunStatus.PARTIAL and [f.page for f in failures] == ["dark", "dark"]


def test_session_expiry_in_the_middle_of_a_run_logs_in_again(parts, site_config, demo_server, requests):
    config = site_config()
    result = run_once(config, parts=parts, on_progress=after_tables(1, demo_server.faults.expire_sessions))
    assert result.ok and [t.stem for t in result.tables] == ALL
    assert requests.count(("POST", "/login")) == 2
    run, failures = ledger_of(config)
    assert [(f.page, f.error) for f in failures] == [("dark", "SessionExpired")] and run.status is RunStatus.OK


def test_a_missing_table_and_a_changed_selector_are_recorded_with_one_snapshot_each(parts, site_config, demo_server):
    config = site_config(browser={"wait_timeout_s": 1.5})
    demo_server.faults.drop_table("roulette", "small")
    demo_server.faults.rename_table("zebra", "main", "zebra-grid")
    result = run_once(config, parts=parts)
    assert [t.stem for t in result.tables] == ["light__main", "dark__main", "roulette__main"]
    assert [(f.where, f.error) for f in result.errors] == [("roulette/small", "TableNotFound"), ("zebra/main", "TableNotFound")]
    shots = sorted(p.name for p in result.folder.glob("failure__*"))
    assert shots == ["failure__roulette__small.html", "failure__roulette__small.png",
                     "failure__zebra__main.html", "failure__zebra__main.png"]
    assert "zebra-grid" in (result.folder / "failure__zebra__main.html").read_text()
    run, failures = ledger_of(config)
    assert run.status is RunStatus.PARTIAL and run.counts.pages == 2
    assert [(f.page, f.table, f.snapshot) for f in failures] == [
        ("roulette", "small", "failure__roulette__small"), ("zebra", "main", "failure__zebra__main")]


def test_bad_credentials_fail_fast_with_no_retry_storm(parts, site_config, monkeypatch, requests, demo_password, opened):
    config = site_config(retry={"attempts": 5, "backoff_s": 30})
    monkeypatch.setenv("ROBOT_PASSWORD", "not-" + demo_password)
    started = time.monotonic()
    with pytest.raises(LoginFailed, match=r"refused the login for the user in \$ROBOT_USERNAME"):
        run_once(config, parts=parts)
    assert time.monotonic() - started < 30 and requests.count(("POST", "/login")) == 1 and len(opened) == 1
    run, failures = ledger_of(config)
    assert run.status is RunStatus.FAILED and [(f.error, f.snapshot) for f in failures] == [("LoginFailed", "failure__LoginFailed")]
    written = "".join(p.read_text(errors="replace") for p in config.output.folder.rglob("*") if p.suffix in (".html", ".json", ".csv"))
    assert demo_password not in written


# ---------------------------------------------------------------------------- the machine misbehaves

@pytest.mark.parametrize("victim", ["chromium", "chromedriver"])
def test_a_browser_killed_mid_run_is_restarted_and_the_run_goes_on(parts, victim, site_config, opened):
    config = site_config()
    killed = []
    before = chromium_profiles()

    def kill():
        driver = opened[-1]
        pid = driver.service.process.pid if victim == "chromedriver" else descendants(driver.service.process.pid)[-1]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    result = run_once(config, parts=parts, on_progress=after_tables(1, kill))
    assert result.ok and [t.stem for t in result.tables] == ALL
    assert len(opened) == 2 and killed
    run, failures = ledger_of(config)
    assert run.status is RunStatus.OK and [(f.page, f.error) for f in failures] == [("dark", "BrowserCrashed")]
    assert not any(alive(pid) for driver in opened for pid in [driver.service.process.pid])
    assert not chromium_profiles() - before  # a killed chromedriver's Chromium is not left running either


def test_the_time_limit_quits_the_browser_and_stops_the_run(site_config, demo_server, monkeypatch):
    from robot import schedule

    # Time enough to start Chromium, log in and read the first page on a busy machine (8 s was
    # once too little in a full run); the second page hangs for 40 s.
    limit_s = 12
    config = site_config(schedule={"run_time_limit_s": limit_s}, browser={"page_load_timeout_s": 60})
    demo_server.faults.slow("dark", 40)
    pids = []

    @contextlib.contextmanager
    def remember(settings):
        with open_browser(settings) as driver:
            pids.extend(driver_pids(driver))
            yield driver

    monkeypatch.setattr(schedule, "load_config", lambda path: config)  # the job's config file, already loaded
    monkeypatch.setattr(robot.control, "QUIT_WAIT_S", 2)  # chromedriver will not quit mid-load: kill it sooner
    started = time.monotonic()
    outcome = schedule.harvest("config.yaml", schedule.runner_for(fake_parts(FakeReader(values=demo_server.truth), remember)))
    assert outcome.status is RunStatus.STOPPED and f"run_time_limit_s ({limit_s} s)" in outcome.message
    assert time.monotonic() - started < limit_s + 10
    run, _ = ledger_of(config)
    assert run.status is RunStatus.STOPPED and run.counts.tables == 1  # light was done, dark was dropped whole
    assert not (config.output.folder / run.run_id / "dark__main.csv").exists()
    assert pids and gone(pids)


def gone(pids: list[int], within_s: float = 5.0) -> bool:
    """True once none of `pids` is alive: a SIGKILLed process takes a moment to be reaped."""
    deadline = time.monotonic() + within_s
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ---------------------------------------------------------------------------- a Selenium server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def standalone_chromedriver():
    """chromedriver as a standalone WebDriver server on a loopback port, as a Selenium Grid node would be."""
    port = free_port()
    proc = subprocess.Popen(["chromedriver", f"--port={port}", "--allowed-ips=127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/status", timeout=2) as response:
                if json.loads(response.read())["value"]["ready"]:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("the standalone chromedriver did not come up")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_remote_url_drives_a_remote_webdriver(parts, site_config, standalone_chromedriver, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no local chromedriver could be started: all goes through the server
    config = site_config(pages=PAGES[:2], browser={"remote_url": standalone_chromedriver})
    result = run_once(config, parts=parts)
    assert result.ok and [t.stem for t in result.tables] == ["light__main", "dark__main"]
    from robot.doctor import check_browser

    assert check_browser(config.browser).ok


# ---------------------------------------------------------------------------- `robot run` in a real process

FAKE_READER_ROBOT = """
import sys, time, robot.cli
from tests.robot_fakes import FakeReader, fake_parts

class SlowReader(FakeReader):
    def read(self, image, shape=None, source=""):
        print("reading", source, flush=True)
        time.sleep(1.0)
        return super().read(image, shape, source)

robot.cli.main(obj=fake_parts(SlowReader()))
"""


def chromium_profiles() -> set[int]:
    """Pids of Chromium processes started by this project (their profile folder says so)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"tablebot-chromium-" in (proc / "cmdline").read_bytes() and alive(int(proc.name)):
                    found.add(int(proc.name))
            except OSError:
                continue
    return found


def test_robot_run_stops_cleanly_on_sigterm_and_quits_the_browser(write_config, tmp_path):
    before = chromium_profiles()
    config = write_config({"pages": PAGES[:3], "schedule": {"interval_minutes": 60}})  # demo target: own site
    proc = subprocess.Popen([sys.executable, "-c", FAKE_READER_ROBOT, "run", "--now", "--config", str(config)],
                            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("reading"), proc.stderr.read()
        assert chromium_profiles() - before  # its browser is up
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == ExitCode.OK, err
    assert not chromium_profiles() - before  # the browser was quit
    (run,) = Ledger.in_folder(tmp_path / "runs").last_runs()
    assert run.status is RunStatus.STOPPED and run.counts.tables == 1 and "SIGTERM" in run.error
