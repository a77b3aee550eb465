"""What a fault and security audit of the unattended robot found (issue 15), each driven for real:
the demo site's faults, real headless Chromium, real processes and signals, a real full disk.
The fake reader stands in for the model (its values come from the demo's truth)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robot.browser.manage import open_browser
from robot.config import load_config
from robot.errors import SiteUnreachable
from robot.ledger import Ledger, RunStatus
from robot.run import run_once
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
PROCESS_TIMEOUT_S = 180
# A password in every spelling trouble: quotes, a backslash, non-ASCII (JSON may \u-escape it), HTML specials.
TRICKY_PASSWORD = 'Pw_"Canary\\93_ü€_<&>\''
TRICKY_USER = "audit-user-Zq7"
# The robot CLI with a fake reader; SLOW_READER=1 makes each table take a second and say so on stdout.
FAKE_READER_ROBOT = """
import os, sys, time, robot.cli
from tests.robot_fakes import FakeReader, fake_parts

class SlowReader(FakeReader):
    def read(self, image, shape=None, source=""):
        if os.environ.get("SLOW_READER"):
            print("reading", source, flush=True)
            time.sleep(1.0)
        return super().read(image, shape, source)

robot.cli.main(obj=fake_parts(SlowReader()))
"""


@pytest.fixture
def tricky_site():
    from robot.demo.server import DemoServer

    with DemoServer(seed=7, username=TRICKY_USER, password=TRICKY_PASSWORD, expose_truth=True) as server:
        yield server


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
    """The real `open_browser`, remembering every driver it opens."""

    @contextlib.contextmanager
    def __call__(self, settings):
        with open_browser(settings) as driver:
            self.append(driver)
            yield driver


@pytest.fixture
def opened() -> Recording:
    return Recording()


@pytest.fixture
def parts(opened, demo_server):
    return fake_parts(FakeReader(values=demo_server.truth), opened)


def robot_process(config: Path, *args: str, env: dict[str, str], slow: bool = False) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items() if k not in ("ROBOT_USERNAME", "ROBOT_PASSWORD", "SLOW_READER")}
    full_env.update(env, **({"SLOW_READER": "1"} if slow else {}))
    return subprocess.Popen([sys.executable, "-c", FAKE_READER_ROBOT, *args, "--config", str(config)], cwd=PROJECT,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = PROCESS_TIMEOUT_S) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def every_byte_written(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def last_run(folder: Path):
    ledger = Ledger.in_folder(folder)
    run = ledger.last_runs(1)[0]
    return run, ledger.failures_of(run.run_id)


# ---------------------------------------------------------------------------- 1. secrets in any spelling

@pytest.mark.parametrize("password", [TRICKY_PASSWORD, "wrong-" + TRICKY_PASSWORD])
def test_no_spelling_of_the_password_or_the_user_name_reaches_a_verbose_log_or_a_file(tricky_site, write_config,
                                                                                       password):
    config = write_config({"target": {"kind": "url", "url": tricky_site.url}, "browser": {"wait_timeout_s": 5},
                           "pages": PAGES[:1]})
    proc = robot_process(config, "-v", "run-once", env={"ROBOT_USERNAME": TRICKY_USER, "ROBOT_PASSWORD": password})
    out, err = finish(proc)
    good = password == TRICKY_PASSWORD
    assert proc.returncode == (ExitCode.OK if good else ExitCode.LOGIN), err
    assert "/value" in err  # Selenium's command log was on, so the typed text was there to leak
    logs = out + err
    for secret in (password, TRICKY_USER):
        chars = ", ".join(repr(c) for c in secret)  # Selenium's send_keys body: the text as single characters
        spelled = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], chars,
                   repr(secret)[1:-1], "', '".join(secret[:6])}
        for spelling in spelled:
            assert spelling not in logs, spelling
    assert "typed text is withheld" in err
    written = every_byte_written(config.parent / "runs")
    for secret in (password.encode(), TRICKY_USER.encode(), json.dumps(password)[1:-1].encode()):
        assert secret not in written
    if not good:
        assert "the user in $ROBOT_USERNAME" in err
        (html,) = (config.parent / "runs").rglob("failure__LoginFailed.html")
        assert "Wrong user name or password" in html.read_text() and "***" in html.read_text()


# ---------------------------------------------------------------------------- 3. an invalid selector

def test_an_invalid_css_selector_costs_its_table_only_and_names_the_config_key(parts, site_config, opened):
    bad = {"name": "small", "selector": "###[[", "rows": 4, "cols": 10}
    config = site_config(pages=[*PAGES[:2], {**PAGES[2], "tables": [MAIN, bad]}, PAGES[3]])
    result = run_once(config, parts=parts)
    assert [t.stem for t in result.tables] == ["light__main", "dark__main", "roulette__main", "zebra__main"]
    (failure,) = result.errors
    assert (failure.where, failure.error) == ("roulette/small", "InvalidSelector")
    assert "not valid CSS" in failure.message and "pages[roulette].tables[small].selector" in failure.message
    assert result.exit_code == ExitCode.CONFIG and len(opened) == 1  # no browser restarted
    run, failures = last_run(config.output.folder)
    assert run.status is RunStatus.PARTIAL and run.counts.tables == 4
    assert [(f.page, f.table, f.error) for f in failures] == [("roulette", "small", "InvalidSelector")]


def test_an_invalid_login_selector_is_a_config_error_at_once(parts, site_config, opened):
    config = site_config(pages=PAGES[:1], login={"success_selector": "#logout[["})
    with pytest.raises(Exception) as info:
        run_once(config, parts=parts)
    assert type(info.value).__name__ == "InvalidSelector" and info.value.exit_code == ExitCode.CONFIG
    assert len(opened) == 1


# ---------------------------------------------------------------------------- 4. a site that is down

def test_a_site_that_is_down_is_unreachable_retried_with_backoff_and_exits_8(write_config, monkeypatch, opened):
    monkeypatch.setenv("ROBOT_USERNAME", "robot")
    monkeypatch.setenv("ROBOT_PASSWORD", "pw")
    # Port 9 (discard) is one Chromium will not even try: it shows its own error page and `get` does not raise.
    config = load_config(write_config({"target": {"kind": "url", "url": "http://127.0.0.1:9"}, "pages": PAGES[:1],
                                       "browser": {"wait_timeout_s": 5}, "retry": {"backoff_s": 0.3}}))
    started = time.monotonic()
    with pytest.raises(SiteUnreachable, match=r"cannot reach http://127.0.0.1:9/login \(ERR_[A-Z_]+\)") as info:
        run_once(config, parts=fake_parts(FakeReader(), opened))
    assert info.value.exit_code == ExitCode.TARGET and time.monotonic() - started >= 0.3 + 0.6  # backed off twice
    run, failures = last_run(config.output.folder)
    assert run.status is RunStatus.FAILED and len(opened) == 1
    assert [(f.page, f.error) for f in failures] == [("login", "SiteUnreachable")] * 2 + [(None, "SiteUnreachable")]


def test_robot_run_once_against_a_site_that_is_down_exits_8(write_config):
    config = write_config({"target": {"kind": "url", "url": "http://127.0.0.1:9"}, "pages": PAGES[:1],
                           "retry": {"backoff_s": 0.1}})
    proc = robot_process(config, "run-once", env={"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": "pw"})
    out, err = finish(proc)
    assert proc.returncode == ExitCode.TARGET, err
    assert err.strip().splitlines()[-1].startswith("error: cannot reach http://127.0.0.1:9/login (ERR_")
