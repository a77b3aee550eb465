"""run_once and `robot run-once` with the fake browser and the fake reader (no Chromium, no model)."""
from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from recognizer.errors import ModelError
from robot.config import load_config
from robot.errors import LoginFailed, SiteUnreachable
from robot.ledger import Ledger, RunStatus
from robot.results import CapturedTable, Failure
from robot.run import RunParts, demo_credentials, run_once
from tablebot.errors import ExitCode
from tests.robot_fakes import (
    FAKE_PASSWORD,
    FAKE_USER,
    FakeOpener,
    FakeReader,
    fake_parts,
    robot_cli,
)

STEMS = ["light__main", "dark__main", "roulette__main", "roulette__small", "zebra__main"]


@pytest.fixture
def url_config_path(write_config, monkeypatch) -> Path:
    monkeypatch.setenv("ROBOT_USERNAME", FAKE_USER)
    monkeypatch.setenv("ROBOT_PASSWORD", FAKE_PASSWORD)
    return write_config({"target": {"kind": "url", "url": "http://fake.test"}, "browser": {"wait_timeout_s": 0.3},
                         "retry": {"backoff_s": 0.01}})


@pytest.fixture
def url_config(url_config_path):
    return load_config(url_config_path)


@pytest.fixture
def browser_opened(fake_driver) -> FakeOpener:
    """The fake driver instead of Chromium; the list records each open_browser call."""
    return FakeOpener(fake_driver)


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader(flag={("dark", "main", 0, 0), ("zebra", "main", 7, 14)})


@pytest.fixture
def parts(browser_opened, reader) -> RunParts:
    return fake_parts(reader, browser_opened)


def all_text_written(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def test_a_run_writes_every_table_and_the_summary(parts, url_config, browser_opened, reader, fake_driver):
    progress = []
    result = run_once(url_config, parts=parts, on_progress=progress.append)

    assert result.ok and result.exit_code == 0
    assert [t.stem for t in result.tables] == STEMS
    assert result.cells == 4 * 120 + 40 and result.flagged == 2
    assert result.folder.parent == url_config.output.folder and result.folder.name == result.run_id
    assert [(p.done, p.total) for p in progress] == [(i, 5) for i in range(1, 6)]
    assert all(isinstance(p.item, CapturedTable) for p in progress)
    assert reader.calls == [f"{result.run_id}/{stem}" for stem in STEMS]
    assert fake_driver.quit_called and len(browser_opened) == 1

    names = sorted(p.name for p in result.folder.iterdir())
    expected = [f"{s}{ext}" for s in STEMS for ext in (".csv", ".json", ".png", ".annotated.png")]
    assert names == sorted(expected + ["cells.csv", "run.json"])
    with open(result.folder / "cells.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 520 and {r["run_id"] for r in rows} == {result.run_id}
    assert sum(r["needs_review"] == "true" for r in rows) == 2
    assert (result.folder / "roulette__small.csv").read_text().count("\n") == 4
    summary = json.loads((result.folder / "run.json").read_text())
    assert summary["ok"] and summary["totals"] == {"tables": 5, "cells": 520, "flagged": 2, "unchanged": 0}
    assert summary["target"] == "http://fake.test"


def test_no_screenshots_without_artifacts(parts, url_config, browser_opened, reader):
    result = run_once(url_config, parts=parts, keep_artifacts=False)
    assert not list(result.folder.glob("*.png")) and len(list(result.folder.glob("*.csv"))) == 6


def test_keep_screenshots_false_in_config(parts, write_config, monkeypatch, browser_opened, reader):
    monkeypatch.setenv("ROBOT_USERNAME", FAKE_USER)
    monkeypatch.setenv("ROBOT_PASSWORD", FAKE_PASSWORD)
    config = load_config(write_config({"target": {"kind": "url", "url": "http://fake.test"},
                                       "output": {"keep_screenshots": False}}))
    assert not list(run_once(config, parts=parts).folder.glob("*.png"))


def test_a_missing_table_is_recorded_and_the_others_are_written(parts, url_config, browser_opened, reader, fake_driver):
    del fake_driver.site.tables["/tables/roulette"]["#table-small"]
    result = run_once(url_config, parts=parts)
    assert [t.stem for t in result.tables] == [s for s in STEMS if s != "roulette__small"]
    (failure,) = result.errors
    assert (failure.page, failure.table_name, failure.error) == ("roulette", "small", "TableNotFound")
    assert "'#table-small'" in failure.message and result.exit_code == ExitCode.TARGET
    assert (result.folder / "failure__roulette__small.png").is_file()
    assert (result.folder / "failure__roulette__small.html").is_file()
    assert json.loads((result.folder / "run.json").read_text())["errors"][0]["table"] == "small"


def test_an_unreadable_table_is_recorded(url_config, browser_opened, monkeypatch):
    parts = fake_parts(FakeReader(unreadable={"zebra__main"}), browser_opened)
    result = run_once(url_config, parts=parts)
    assert [(f.where, f.error) for f in result.errors] == [("zebra/main", "SegmentationError")]
    assert result.exit_code == ExitCode.INPUT and len(result.tables) == 4
    # the refused screenshot stays beside the page's snapshot, and run.json names it with the reason
    assert (result.folder / "failure__zebra__main.table.png").is_file()
    (entry,) = json.loads((result.folder / "run.json").read_text())["errors"]
    assert entry["table_image"] == "failure__zebra__main.table.png" and entry["error"] == "SegmentationError"


def test_a_table_never_ready_keeps_its_screenshot_and_the_run_goes_on(parts, url_config, browser_opened, fake_driver):
    fake_driver.site.tables["/tables/dark"]["#table-main"].loaded = False
    result = run_once(url_config, parts=parts)
    assert [t.stem for t in result.tables] == [s for s in STEMS if s != "dark__main"]
    (failure,) = result.errors
    assert failure.error == "TableNotReady" and "not finished loading" in failure.message
    assert failure.table_image == "failure__dark__main.table.png"
    assert (result.folder / failure.table_image).read_bytes() == fake_driver.site.tables["/tables/dark"]["#table-main"].png
    (entry,) = json.loads((result.folder / "run.json").read_text())["errors"]
    assert (entry["table"], entry["table_image"]) == ("main", failure.table_image)
    assert "not finished loading" in entry["message"]


def test_wrong_password_stops_the_run_and_leaves_no_secret_anywhere(parts, url_config, browser_opened, reader, monkeypatch,
                                                                     caplog, capsys):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + FAKE_PASSWORD
    monkeypatch.setenv("ROBOT_PASSWORD", wrong)
    with pytest.raises(LoginFailed, match=r"refused the login for the user in \$ROBOT_USERNAME; check ROBOT_USERNAME/ROBOT_PASSWORD"):
        run_once(url_config, parts=parts)
    (folder,) = [p for p in url_config.output.folder.iterdir() if p.is_dir()]  # beside it: robot.sqlite
    assert sorted(p.name for p in folder.iterdir()) == ["cells.csv", "failure__LoginFailed.html",
                                                         "failure__LoginFailed.png", "run.json"]
    summary = json.loads((folder / "run.json").read_text())
    assert summary["ok"] is False and summary["errors"][0]["error"] == "LoginFailed" and summary["errors"][0]["page"] is None
    # the fake site echoes the typed password into its page source: the snapshot must not
    written, out = all_text_written(folder), capsys.readouterr()
    for text in (written, caplog.text, out.out, out.err):
        assert wrong not in text and FAKE_PASSWORD not in text
    assert FAKE_USER not in written  # the site echoes the user name too; run.json and the ledger name $ROBOT_USERNAME
    assert "***" in (folder / "failure__LoginFailed.html").read_text()


def test_the_password_appears_in_no_output_of_a_good_run(parts, url_config, browser_opened, reader, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    result = run_once(url_config, parts=parts)
    out = capsys.readouterr()
    for text in (all_text_written(result.folder), caplog.text, out.out, out.err):
        assert FAKE_PASSWORD not in text
    assert not any(FAKE_PASSWORD in p.name for p in result.folder.iterdir())


def test_unreachable_site_is_one_clear_error_after_bounded_retries(parts, url_config, browser_opened, reader, fake_driver):
    fake_driver.site.unreachable = True
    with pytest.raises(SiteUnreachable, match="cannot reach http://fake.test/login"):
        run_once(url_config, parts=parts)
    ledger = Ledger.in_folder(url_config.output.folder)
    (run,) = ledger.last_runs()
    assert run.status is RunStatus.FAILED and "cannot reach" in run.error and len(browser_opened) == 1
    tries = [(f.page, f.error, f.message.endswith("retried)")) for f in ledger.failures_of(run.run_id)]
    assert tries == [("login", "SiteUnreachable", True)] * 2 + [(None, "SiteUnreachable", False)]


def test_the_model_loads_before_any_browser_work(url_config, browser_opened, monkeypatch):
    def broken(settings):
        raise ModelError("no model")

    parts = RunParts(browser_opened, broken)
    with pytest.raises(ModelError):
        run_once(url_config, parts=parts)
    assert browser_opened == [] and not url_config.output.folder.exists()


def test_demo_credentials_from_env_or_generated(monkeypatch):
    monkeypatch.delenv("DEMO_U", raising=False)
    monkeypatch.delenv("DEMO_P", raising=False)
    user, password, label = demo_credentials("DEMO_U", "DEMO_P")
    assert len(user) >= 16 and len(password) >= 16 and user not in label
    assert demo_credentials("DEMO_U", "DEMO_P")[1] != password
    monkeypatch.setenv("DEMO_U", "alice")
    monkeypatch.setenv("DEMO_P", "s3cret")
    assert demo_credentials("DEMO_U", "DEMO_P") == ("alice", "s3cret", "the user in $DEMO_U")


def test_starting_the_robot_does_not_import_tensorflow_or_flask():
    code = ("import sys, robot.cli, robot.run, robot.capture, robot.runfolder, robot.commands.run; "
            "bad = [m for m in ('tensorflow', 'keras', 'flask', 'matplotlib') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------------- the command, in-process

def test_cli_prints_progress_and_summary(parts, url_config_path, browser_opened, reader, monkeypatch, capsys):
    code, out, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(url_config_path), parts=parts)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "[1/5] light/main: 8x15, 0 empty, 0 flagged"
    assert lines[1] == "[2/5] dark/main: 8x15, 0 empty, 1 flagged"
    assert lines[3] == "[4/5] roulette/small: 4x10, 0 empty, 0 flagged"
    assert lines[5].startswith("5 tables, 520 cells, 2 flagged for review, ") and str(url_config_path.parent / "runs") in lines[5]
    assert FAKE_PASSWORD not in out + err


def test_cli_missing_table_exits_with_target_code(parts, url_config_path, browser_opened, reader, fake_driver, monkeypatch, capsys):
    del fake_driver.site.tables["/tables/zebra"]["#table-main"]
    code, out, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(url_config_path), parts=parts)
    assert code == ExitCode.TARGET
    assert "[5/5] zebra/main: FAILED (TableNotFound)" in out
    assert "error: zebra/main: timed out after 0.3 s waiting for table zebra/main (selector '#table-main')" in err


def test_cli_bad_login_is_one_line_and_exit_code(parts, url_config_path, browser_opened, reader, monkeypatch, capsys):
    monkeypatch.setenv("ROBOT_PASSWORD", "nope")
    code, out, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(url_config_path), parts=parts)
    assert code == ExitCode.LOGIN
    assert err.strip().splitlines()[-1] == (
        "error: the site refused the login for the user in $ROBOT_USERNAME; check ROBOT_USERNAME/ROBOT_PASSWORD")
    assert "nope" not in out + err and "Traceback" not in err


def test_cli_missing_credentials_for_a_url_target(parts, url_config_path, browser_opened, reader, monkeypatch, capsys):
    monkeypatch.delenv("ROBOT_PASSWORD")
    code, _, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(url_config_path), parts=parts)
    assert code == ExitCode.CONFIG and "ROBOT_PASSWORD" in err


def test_cli_check_demo_needs_a_demo_target(parts, url_config_path, browser_opened, reader, monkeypatch, capsys):
    code, _, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(url_config_path), "--check-demo", parts=parts)
    assert code == ExitCode.USAGE and "--check-demo needs target.kind: demo" in err


# ---------------------------------------------------------------------------- --check-demo: real demo site, fake browser

@pytest.fixture
def demo_truth():
    server = pytest.importorskip("robot.demo.server", reason="the demo site is not there yet")
    return server.DemoServer(username="x", password="y", seed=7).truth


@pytest.fixture
def demo_config_path(write_config, monkeypatch):
    # The demo site and the fake browser share these credentials.
    monkeypatch.setenv("ROBOT_USERNAME", FAKE_USER)
    monkeypatch.setenv("ROBOT_PASSWORD", FAKE_PASSWORD)
    return write_config({"target": {"kind": "demo"}, "browser": {"wait_timeout_s": 0.3}})


def test_check_demo_passes_when_the_csvs_match_the_truth(demo_config_path, demo_truth, browser_opened, monkeypatch, capsys):
    parts = fake_parts(FakeReader(values=demo_truth), browser_opened)
    code, out, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(demo_config_path), "--check-demo", parts=parts)
    assert code == 0, err
    assert "check light/main: 100.00% right (0 wrong of 120, 0 not flagged)" in out
    assert "check overall: 100.00% right, 0 wrong of 520, 0 wrong and not flagged" in out
    assert out.rstrip().endswith("check passed")


def test_check_demo_fails_on_one_wrong_unflagged_cell(demo_config_path, demo_truth, browser_opened, monkeypatch, capsys):
    def one_wrong(page, table):
        grid = [list(row) for row in demo_truth(page, table)]
        if (page, table) == ("dark", "main"):
            grid[3][4] = 36 if grid[3][4] != 36 else 35
        return grid

    parts = fake_parts(FakeReader(values=one_wrong), browser_opened)
    code, out, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(demo_config_path), "--check-demo", parts=parts)
    assert code == ExitCode.FAILED
    assert "check dark/main: 99.17% right (1 wrong of 120, 1 not flagged)" in out
    assert "1 wrong cells not flagged for review" in err


def test_check_demo_accepts_a_wrong_cell_that_is_flagged(demo_config_path, demo_truth, browser_opened, monkeypatch, capsys):
    def one_wrong(page, table):
        grid = [list(row) for row in demo_truth(page, table)]
        if (page, table) == ("light", "main"):
            grid[0][0] = 36 if grid[0][0] != 36 else 35
        return grid

    reader = FakeReader(values=one_wrong, flag={("light", "main", 0, 0)})
    parts = fake_parts(reader, browser_opened)
    code, out, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(demo_config_path), "--check-demo", parts=parts)
    assert code == 0, err
    assert "check overall: 99.81% right, 1 wrong of 520, 0 wrong and not flagged" in out


def test_failures_name_where_they_happened():
    assert Failure("TableNotFound", "m", 8, "p", "t").where == "p/t"
    assert Failure("LoginFailed", "m", 7).where == "run"


def test_cli_without_chromedriver_is_one_line_and_the_browser_code(write_config, reader, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ROBOT_USERNAME", FAKE_USER)
    monkeypatch.setenv("ROBOT_PASSWORD", FAKE_PASSWORD)
    config = write_config({"target": {"kind": "url", "url": "http://fake.test"},
                           "browser": {"chromedriver_path": str(tmp_path / "no-chromedriver")}})
    code, _, err = robot_cli(monkeypatch, capsys, "run-once", "--config", str(config), parts=fake_parts(reader))
    assert code == ExitCode.BROWSER
    assert err.strip().splitlines()[-1] == (
        f"error: browser.chromedriver_path {tmp_path / 'no-chromedriver'} does not exist: fix the path or remove it")
