"""The run ledger (robot/ledger.py), what run_once records in it, and `robot status`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from robot.commands.status import format_runs
from robot.errors import TableNotFound
from robot.ledger import Ledger, RunCounts, RunStatus, recover_cut_off_runs
from robot.lock import OutputLock
from robot.results import Failure
from robot.state import STATE_FILE
from tablebot.errors import ExitCode, OutputError
from tests import fs_faults
from tests.robot_fakes import robot_cli

T0 = datetime(2026, 11, 20, 8, 0, 0, tzinfo=timezone.utc)


def test_a_run_and_its_failures_round_trip(tmp_path):
    ledger = Ledger.in_folder(tmp_path)
    ledger.run_started("R1", T0, tmp_path / "R1")
    failure = Failure.from_error(TableNotFound("no #table-small"), "roulette", "small")
    ledger.failure("R1", failure, "failure__roulette__small", at=T0 + timedelta(seconds=3))
    assert ledger.last_runs()[0].status is RunStatus.RUNNING and ledger.last_runs()[0].seconds is None
    ledger.run_finished("R1", T0 + timedelta(seconds=12.5), RunStatus.PARTIAL, RunCounts(3, 4, 1, 480, 2),
                        failure.message)

    (run,) = ledger.last_runs()
    assert (run.run_id, run.status, run.counts, run.error, run.seconds) == (
        "R1", RunStatus.PARTIAL, RunCounts(3, 4, 1, 480, 2), "no #table-small", 12.5)
    assert run.started_at == "2026-11-20T08:00:00.000Z" and run.folder == str(tmp_path / "R1")
    (f,) = ledger.failures_of("R1")
    assert (f.page, f.table, f.error, f.message, f.snapshot) == (
        "roulette", "small", "TableNotFound", "no #table-small", "failure__roulette__small")
    assert ledger.run("R1") == run and ledger.run("nope") is None


def test_reading_never_creates_the_database(tmp_path):
    ledger = Ledger.in_folder(tmp_path / "none")
    assert ledger.last_runs() == [] and ledger.failures_of("R1") == [] and ledger.run("R1") is None
    assert not (tmp_path / "none").exists()


def test_newest_first_and_limited(tmp_path):
    ledger = Ledger.in_folder(tmp_path)
    for i in range(5):
        ledger.run_started(f"R{i}", T0 + timedelta(hours=i))
    assert [r.run_id for r in ledger.last_runs(3)] == ["R4", "R3", "R2"]


def test_runs_left_running_are_abandoned_and_their_tables_indexed(tmp_path):
    from robot.dedupe import CaptureIndex, values_digest

    ledger = Ledger.in_folder(tmp_path)
    ledger.run_started("R1", T0)
    ledger.run_finished("R1", T0, RunStatus.OK, RunCounts())
    ledger.run_started("R2", T0 + timedelta(hours=1))
    (tmp_path / "R2").mkdir()
    (tmp_path / "R2" / "cells.csv").write_text(
        "run_id,captured_at,page,table,row,col,value,confidence,needs_review,confirmed\n"
        "R2,2026-11-20T09:00:01.000Z,light,main,0,0,5,0.99,false,false\n"
        "R2,2026-11-20T09:00:01.000Z,light,main,0,1,,1.0,false,false\n")
    assert recover_cut_off_runs(tmp_path) == ["R2"]
    assert ledger.run("R2").status is RunStatus.ABANDONED and "ended in the middle" in ledger.run("R2").error
    assert ledger.run("R1").status is RunStatus.OK
    seen = CaptureIndex.in_folder(tmp_path).seen_values("light", "main", values_digest([[5, None]]))
    assert seen.run_id == "R2"
    assert recover_cut_off_runs(tmp_path) == []


def test_missed_runs_get_a_row(tmp_path):
    ledger = Ledger.in_folder(tmp_path)
    run_id = ledger.run_missed(T0, "the robot was not running")
    assert run_id == "missed-20261120T080000Z"
    ledger.run_missed(T0, "again")  # the same missed time is one row
    (run,) = ledger.last_runs()
    assert run.status is RunStatus.MISSED and run.error == "the robot was not running"


def test_format_runs_lists_runs_and_their_failures():
    ledger_rows = [
        _row("R2", RunStatus.FAILED, "the site refused the login\nsecond line"),
        _row("R1", RunStatus.OK, None),
    ]
    from robot.ledger import FailureRow

    failures = {"R2": [FailureRow("R2", "t", None, None, "LoginFailed", "refused", "failure__LoginFailed"),
                       FailureRow("R2", "t", "light", None, "PageLoadFailed", "HTTP 500 (try 1 of 3; retried)", None)]}
    lines = format_runs(ledger_rows, failures)
    assert lines[0].startswith("run ") and "status" in lines[0]
    assert "R2" in lines[1] and "failed" in lines[1] and lines[1].endswith("the site refused the login")
    assert lines[2] == "    run: LoginFailed: refused [failure__LoginFailed]"
    assert lines[3] == "    light: PageLoadFailed: HTTP 500 (try 1 of 3; retried)"
    assert "R1" in lines[4] and " ok " in lines[4]
    assert format_runs([]) == ["no runs yet"]


def _row(run_id, status, error):
    from robot.ledger import RunRow

    return RunRow(run_id, "2026-11-20T08:00:00.000Z", "2026-11-20T08:00:30.000Z", status, RunCounts(4, 5, 0, 520, 2),
                  error, None)


def test_an_unwritable_output_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    with fs_faults.tmpfs(folder, "1m"):
        Ledger.in_folder(folder).run_started("R1", T0)
        with fs_faults.readonly(folder):
            with pytest.raises(OutputError, match=f"cannot write {folder / STATE_FILE}.*writable output.folder"):
                Ledger.in_folder(folder).run_started("R2", T0)
            assert [r.run_id for r in Ledger.in_folder(folder).last_runs()] == ["R1"]  # reading still works


# ---------------------------------------------------------------------------- `robot status`

def test_status_with_no_runs(write_config, monkeypatch, capsys):
    config = write_config()
    code, out, err = robot_cli(monkeypatch, capsys, "status", "--config", str(config))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("robot: not running (output folder ")
    assert lines[1] == "next run: none scheduled: start `robot run` (every 60 min)"
    assert lines[2] == "no runs yet"


@pytest.mark.parametrize("command", ["status", "run", "doctor"])
def test_a_schedule_with_neither_cron_nor_interval_is_a_config_error_for_every_command(write_config, monkeypatch,
                                                                                        capsys, command):
    config = write_config({"schedule": {"cron": None, "interval_minutes": None}})
    code, out, err = robot_cli(monkeypatch, capsys, command, "--config", str(config))
    # doctor reports each failed check and exits 1 (robot.commands.doctor); the others stop at the config
    assert code == (ExitCode.FAILED if command == "doctor" else ExitCode.CONFIG), err
    assert "schedule: Value error, give schedule.cron or schedule.interval_minutes" in out + err
    assert "Traceback" not in err


def test_status_shows_the_holder_the_runs_and_failures(write_config, monkeypatch, capsys, tmp_path):
    config = write_config({"schedule": {"cron": "*/30 * * * *", "interval_minutes": None}})
    folder = tmp_path / "runs"
    ledger = Ledger.in_folder(folder)
    ledger.run_started("R1", T0)
    ledger.failure("R1", Failure.from_error(TableNotFound("gone"), "zebra", "main"))
    ledger.run_finished("R1", T0 + timedelta(seconds=40), RunStatus.PARTIAL, RunCounts(3, 4, 0, 480, 1), "gone")
    with OutputLock(folder, "robot run"):
        code, out, err = robot_cli(monkeypatch, capsys, "status", "--config", str(config), "--last", "5")
    assert code == 0, err
    assert "running, robot process" in out and "`robot run`" in out
    assert "cron '*/30 * * * *'" in out
    assert "R1" in out and "partial" in out and "    zebra/main: TableNotFound: gone" in out
