"""What a fault and security audit of the unattended robot found (issue 15), each driven for real:
the demo site's faults, real headless Chromium, real processes and signals, a real full disk.
The fake reader stands in for the model (its values come from the demo's truth)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robot.config import load_config
from robot.control import descendants
from robot.errors import SiteUnreachable
from robot.ledger import Ledger, RunStatus
from robot.run import run_once
from robot.runfolder import CELLS_CSV, RunTable, read_cells_file
from tablebot.errors import ExitCode, OutputError
from tests import fs_faults
from tests import test_faults_e2e as faults_e2e
from tests.robot_fakes import FakeReader, fake_parts, robot_cli
from tests.test_faults_e2e import ALL, MAIN, PAGES, gone

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (shutil.which("chromedriver") and shutil.which("chromium")),
                       reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)"),
]

PROJECT = Path(__file__).resolve().parents[1]
PROCESS_TIMEOUT_S = 180
# The fault tests' fixtures: the demo site as a url target (`site_config`), real Chromium recorded (`opened`,
# `parts`), the site's requests counted (`requests`).
site_config, opened, parts, requests = faults_e2e.site_config, faults_e2e.opened, faults_e2e.parts, faults_e2e.requests
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


# ---------------------------------------------------------------------------- 5. and 6. kill -9 and SIGTERM

def profiles() -> set[Path]:
    import tempfile

    return set(Path(tempfile.gettempdir()).glob("tablebot-chromium-*"))


def read_lines(proc: subprocess.Popen, count: int) -> list[str]:
    lines = [proc.stdout.readline() for _ in range(count)]
    return [line for line in lines if line.startswith("reading")]


def url_config(write_config, server, **sections) -> Path:
    return write_config({"target": {"kind": "url", "url": server.url}, "pages": PAGES,
                         "browser": {"wait_timeout_s": 5}, **sections})


def test_after_kill_9_the_next_start_reaps_the_browsers_and_profile_and_the_ledger_counts_what_was_written(
        demo_server, demo_password, write_config):
    config = url_config(write_config, demo_server, output={"deduplicate": False})
    env = {"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": demo_password}
    before = profiles()
    proc = robot_process(config, "run-once", env=env, slow=True)
    try:
        # "reading" comes before each table is read; two tables are written when the third is read
        assert len(read_lines(proc, 5)) == 3 and proc.poll() is None
        browser = descendants(proc.pid)
        assert browser
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        finish(proc)
    (profile,) = profiles() - before
    assert profile.name.startswith(f"tablebot-chromium-{proc.pid}-")  # named for its robot
    out, err = finish(robot_process(config, "run-once", env=env))
    assert "5 tables" in out, err
    assert gone(browser) and profile not in profiles()  # the first start after the kill reaped both
    assert not profiles() - before
    runs = Ledger.in_folder(config.parent / "runs").last_runs()
    killed = runs[-1]
    assert killed.status is RunStatus.ABANDONED and (killed.counts.tables, killed.counts.cells) == (2, 240)


def test_sigterm_to_run_once_finishes_the_table_quits_the_browser_and_records_a_stopped_run(
        demo_server, demo_password, write_config):
    config = url_config(write_config, demo_server)
    before = profiles()
    proc = robot_process(config, "run-once", env={"ROBOT_USERNAME": "robot", "ROBOT_PASSWORD": demo_password},
                         slow=True)
    try:
        assert len(read_lines(proc, 1)) == 1
        browser = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc)
    finally:
        finish(proc)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert err.strip().splitlines()[-1] == "error: the robot was asked to stop (SIGTERM)"
    assert browser and gone(browser) and not profiles() - before
    (run,) = Ledger.in_folder(config.parent / "runs").last_runs()
    assert run.status is RunStatus.STOPPED and run.counts.tables == 1 and "SIGTERM" in run.error
    summary = json.loads((config.parent / "runs" / run.run_id / "run.json").read_text())
    assert [t["table"] for t in summary["tables"]] == ["main"] and summary["errors"][0]["error"] == "RunStopped"


# ---------------------------------------------------------------------------- 7. review and harvest together

CORRECT_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from robot.runfolder import RunTable, correct_cell
correct_cell(RunTable(Path(sys.argv[1]), "light__main"), 0, 0, 36, needs_review=False, confirmed=True)
"""


def cell(rows, page, table, row, col):
    (found,) = [r for r in rows if (r.page, r.table, r.row, r.col) == (page, table, row, col)]
    return found


def test_a_correction_made_while_the_harvest_writes_the_same_run_folder_is_kept(parts, site_config, demo_server,
                                                                                monkeypatch, capsys, tmp_path):
    config = site_config()
    truth = demo_server.truth("light", "main")[0][0]
    assert truth != 36

    def review(progress):  # what `robot review` does, from its own process, between two tables of the harvest
        if progress.done == 1:
            folder = next(d for d in config.output.folder.iterdir() if d.is_dir())
            subprocess.run([sys.executable, "-c", CORRECT_IN_ANOTHER_PROCESS, str(folder)], cwd=PROJECT, check=True,
                           timeout=PROCESS_TIMEOUT_S)

    result = run_once(config, parts=parts, on_progress=review)
    assert result.ok and [t.stem for t in result.tables] == ALL
    rows = read_cells_file(result.folder / CELLS_CSV)
    corrected = cell(rows, "light", "main", 0, 0)
    assert (corrected.value, corrected.confirmed) == (36, True)
    assert len(rows) == 520 and cell(rows, "dark", "main", 0, 0).value == demo_server.truth("dark", "main")[0][0]
    code, out, err = robot_cli(monkeypatch, capsys, "report", "--config", str(config_path(config, tmp_path)),
                               "--out", str(tmp_path / "report.csv"))
    assert code == 0, err
    with open(tmp_path / "report.csv", newline="") as stream:
        from robot.runfolder import read_cells_csv

        report = list(read_cells_csv(stream))
    assert cell(report, "light", "main", 0, 0).value == 36


def config_path(config, tmp_path) -> Path:
    return tmp_path / "config.yaml"  # where `write_config` put the file `site_config` loaded


# ---------------------------------------------------------------------------- 13. a full disk mid-run

def test_a_table_whose_cells_csv_line_cannot_be_written_leaves_no_files_behind(parts, site_config, tmp_path):
    """A real tmpfs filled, after the fourth table, to leave room for the next table's files but not for the
    run's cells.csv with it (needs root; skipped elsewhere)."""
    out = tmp_path / "small"
    config = site_config(output={"folder": str(out), "keep_screenshots": False, "deduplicate": False})
    page = 4096

    def pages(path: Path) -> int:
        return -(-path.stat().st_size // page) * page

    def fill(progress):
        if progress.done == 4:  # the next table is zebra/main, 8x15 like light/main
            run_dir = next(d for d in out.iterdir() if d.is_dir())
            rt = RunTable(run_dir, "light__main")
            room = pages(rt.json_path) + pages(rt.csv_path) + page  # the next table's files, and a page to spare
            assert (run_dir / CELLS_CSV).stat().st_size * 520 // 400 > room  # cells.csv with zebra/main needs more
            fs_faults.fill(out, leave_bytes=room)

    with fs_faults.tmpfs(out, "2m"):
        with pytest.raises(OutputError, match="disk full while writing .*cells.csv"):
            run_once(config, parts=parts, on_progress=fill)
        (run_dir,) = [d for d in out.iterdir() if d.is_dir()]
        tables = {p.name for p in run_dir.iterdir() if "__" in p.name}
        assert tables == {f"{stem}.{ext}" for stem in ALL[:4] for ext in ("csv", "json")}  # zebra's were removed again
        assert {f"{r.page}__{r.table}" for r in read_cells_file(run_dir / CELLS_CSV)} == set(ALL[:4])
        assert not list(out.rglob(".*.tmp"))
        (out / "filler.bin").unlink()
        run = Ledger.in_folder(out).last_runs(1)[0]
        if run.status is not RunStatus.RUNNING:  # the ledger may have met the full disk too: then the next start
            assert run.status is RunStatus.FAILED and run.counts.tables == 4


# ---------------------------------------------------------------------------- 8. a session lost before the image

def test_a_session_that_expires_between_a_page_and_its_image_logs_in_again(parts, site_config, demo_server, requests):
    config = site_config(browser={"wait_timeout_s": 2})
    demo_server.faults.expire_after_page("roulette")
    result = run_once(config, parts=parts)
    assert result.ok and [t.stem for t in result.tables] == ALL
    assert requests.count(("POST", "/login")) == 2 and requests.count(("GET", "/tables/roulette")) == 2
    run, failures = last_run(config.output.folder)
    assert run.status is RunStatus.OK and [(f.page, f.error) for f in failures] == [("roulette", "SessionExpired")]
    assert "led to the login page" in failures[0].message

