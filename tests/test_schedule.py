"""`robot run` (robot/schedule.py): triggers, misfire grace, the job, the time limit, the persistent
job store, missed runs, and a clean stop on SIGTERM in a real process."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import robot.schedule as schedule
from recognizer.errors import ModelError
from robot.config import Schedule, load_config
from robot.control import RunControl
from robot.errors import RunStopped
from robot.ledger import Ledger, RunStatus
from robot.lock import LOCK_FILE, OutputLock, current_holder
from robot.results import Failure, RunResult
from tablebot.errors import ConfigError, ExitCode
from tests.robot_fakes import FakeDriver, FakeSite

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 20, 8, 0, 0, tzinfo=timezone.utc)
WAIT_S = 30.0  # upper bound for anything the tests wait for


def wait_for(condition, timeout: float = WAIT_S, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------- pure parts

def test_interval_and_cron_triggers():
    trigger = schedule.build_trigger(Schedule(interval_minutes=0.5))
    assert isinstance(trigger, IntervalTrigger) and trigger.interval == timedelta(seconds=30)
    cron = schedule.build_trigger(Schedule(cron="*/15 6-18 * * mon-fri", interval_minutes=None))
    assert isinstance(cron, CronTrigger)
    with pytest.raises(ConfigError, match=r"schedule.cron 'every hour' is not a crontab expression.*five fields"):
        schedule.build_trigger(Schedule(cron="every hour", interval_minutes=None))


def test_misfire_grace_fits_the_schedule():
    hourly = Schedule(interval_minutes=60)
    assert schedule.misfire_grace_s(hourly, schedule.build_trigger(hourly), NOW) == 1800
    cron = Schedule(cron="*/30 * * * *", interval_minutes=None)
    assert schedule.misfire_grace_s(cron, schedule.build_trigger(cron), NOW) == 900
    daily = Schedule(cron="15 4 * * *", interval_minutes=None)
    assert schedule.misfire_grace_s(daily, schedule.build_trigger(daily), NOW) == 12 * 3600
    fixed = Schedule(interval_minutes=60, misfire_grace_s=120)
    assert schedule.misfire_grace_s(fixed, schedule.build_trigger(fixed), NOW) == 120
    tiny = Schedule(interval_minutes=0.01)
    assert schedule.misfire_grace_s(tiny, schedule.build_trigger(tiny), NOW) == 1  # never below a second


def test_the_job_store_defaults_to_sqlite_in_the_output_folder(write_config, tmp_path):
    config = load_config(write_config())
    assert schedule.jobstore_url(config) == f"sqlite:///{tmp_path / 'runs' / 'schedule.sqlite'}"
    config = load_config(write_config({"schedule": {"jobstore_url": "postgresql://db.example/robot"}}))
    assert schedule.jobstore_url(config) == "postgresql://db.example/robot"


# ---------------------------------------------------------------------------- the job

def fake_result(config, errors=()) -> RunResult:
    now = datetime.now(timezone.utc)
    return RunResult("R1", now, now, config.output.folder / "R1", "http://fake.test", (), tuple(errors))


def test_harvest_runs_run_once_with_its_config_and_reports_the_outcome(write_config, monkeypatch):
    path = write_config()
    seen = []

    def fake_run_once(config, control):
        seen.append((config.output.folder, control))
        return fake_result(config)

    runner = fake_run_once
    outcome = schedule.harvest(str(path), runner)
    assert outcome.status is RunStatus.OK and outcome.message.startswith("run R1: 0 tables written")
    assert seen[0][0] == path.parent / "runs" and isinstance(seen[0][1], RunControl)
    assert not schedule.ACTIVE.busy


def test_harvest_outcomes_for_partial_failed_and_stopped_runs(write_config, monkeypatch):
    path = write_config()
    partial = Failure("TableNotFound", "gone", 8, "zebra", "main")
    runner = lambda config, control: fake_result(config, [partial])
    outcome = schedule.harvest(str(path), runner)
    assert outcome.status is RunStatus.PARTIAL and "zebra/main: TableNotFound" in outcome.message

    def broken(config, control):
        raise ModelError("model file missing")

    runner = broken
    assert schedule.harvest(str(path), runner) == schedule.Outcome(RunStatus.FAILED, "ModelError: model file missing")

    def stopped(config, control):
        raise RunStopped("asked to stop")

    runner = stopped
    assert schedule.harvest(str(path), runner).status is RunStatus.STOPPED
    assert schedule.harvest(str(path.parent / "missing.yaml"), runner).status is RunStatus.FAILED


def test_the_time_limit_stops_the_run_and_quits_its_browser(write_config, monkeypatch):
    path = write_config({"schedule": {"run_time_limit_s": 0.3}})
    driver = FakeDriver(FakeSite("u", "p", {}))

    def endless(config, control):
        with control.browser(driver):
            while True:  # a run stuck on a page, checking in now and then
                control.wait(0.05)

    runner = endless
    started = time.monotonic()
    outcome = schedule.harvest(str(path), runner)
    assert outcome.status is RunStatus.STOPPED and "schedule.run_time_limit_s (0.3 s)" in outcome.message
    assert driver.quit_called and time.monotonic() - started < 5


def test_a_stop_of_all_runs_reaches_a_run_between_tables():
    control_seen = []
    with schedule.ACTIVE.run(60) as control:
        control_seen.append(control)
        schedule.ACTIVE.stop_all("SIGTERM")
        with pytest.raises(RunStopped, match="SIGTERM"):
            control.check()
    schedule.ACTIVE.reopen()
    with schedule.ACTIVE.run(60) as control:
        control.check()  # a new run after reopen goes ahead


# ---------------------------------------------------------------------------- the scheduler in-process

@contextlib.contextmanager
def scheduler_thread(config_path: Path, run_now: bool = False, runner=None):
    stop = threading.Event()
    errors = []

    def target():
        try:
            schedule.run_scheduler(config_path, run_now=run_now, stop=stop, runner=runner or counting_run_once([]))
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    thread = threading.Thread(target=target, name="test-scheduler", daemon=True)
    thread.start()
    try:
        yield stop, errors
    finally:
        stop.set()
        thread.join(WAIT_S)
        assert not thread.is_alive(), "the scheduler did not stop"


def counting_run_once(calls: list):
    def run(config, control):
        calls.append(datetime.now(timezone.utc))
        return fake_result(config)

    return run


def test_run_now_then_every_interval_then_a_clean_stop(write_config, monkeypatch):
    path = write_config({"schedule": {"interval_minutes": 0.02}})  # every 1.2 s
    calls = []
    runner = counting_run_once(calls)
    with scheduler_thread(path, run_now=True, runner=runner) as (stop, errors):
        wait_for(lambda: len(calls) >= 2, what="two runs")
        assert current_holder(path.parent / "runs").pid == os.getpid()
        stop.set()
    assert not errors and current_holder(path.parent / "runs") is None
    assert (calls[1] - calls[0]).total_seconds() > 0.5


def test_a_second_robot_on_the_same_folder_is_refused(write_config):
    path = write_config()
    with OutputLock(path.parent / "runs", "robot run"):
        with pytest.raises(Exception) as info:
            schedule.run_scheduler(path, stop=threading.Event())
    assert info.value.exit_code == ExitCode.LOCKED and f"robot process {os.getpid()}" in str(info.value)


@contextlib.contextmanager
def job_store(config_path: Path):
    """The persistent job store, opened without a running scheduler (one would process due jobs as it stops)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(url=schedule.jobstore_url(load_config(config_path)))
    store.start(BackgroundScheduler(), "default")
    try:
        yield store
    finally:
        store.shutdown()


def test_a_job_store_that_cannot_be_opened_is_a_config_error(write_config):
    path = write_config({"schedule": {"jobstore_url": "nosuchdb://host/robot"}})
    with pytest.raises(ConfigError, match=r"cannot open the job store nosuchdb://host/robot.*schedule.jobstore_url"):
        schedule.run_scheduler(path, stop=threading.Event())
    assert current_holder(path.parent / "runs") is None  # the lock is released


def stored_job(config_path: Path):
    with job_store(config_path) as store:
        return store.lookup_job(schedule.JOB_ID)


def set_stored_next_run(config_path: Path, moment: datetime) -> None:
    with job_store(config_path) as store:
        job = store.lookup_job(schedule.JOB_ID)
        job._modify(next_run_time=moment)
        store.update_job(job)


def start_and_stop(config_path: Path, runner=None) -> None:
    with scheduler_thread(config_path, runner=runner) as (stop, errors):
        wait_for(lambda: stored_next(config_path) is not None, what="the job in the store")
    assert not errors, errors


def stored_next(config_path: Path):
    return schedule.stored_next_run(load_config(config_path))


def test_the_schedule_persists_across_a_restart(write_config, monkeypatch):
    path = write_config({"schedule": {"interval_minutes": 60}})
    calls = []
    runner = counting_run_once(calls)
    before = datetime.now(timezone.utc)
    start_and_stop(path, runner)
    first = stored_next(path)
    assert timedelta(minutes=59) < first - before < timedelta(minutes=61)
    job = stored_job(path)
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 1800)
    assert job.func is schedule.harvest and job.args == (str(path.resolve()),)
    assert "none scheduled" not in schedule.describe_next_run(load_config(path))

    time.sleep(1.1)  # an interval trigger built a second later has another start date: still the same schedule
    start_and_stop(path, runner)  # same schedule: the stored next run time is kept, not started over
    assert stored_next(path) == first and calls == []

    changed = path.parent / "changed.yaml"
    changed.write_text(path.read_text().replace("interval_minutes: 60", "interval_minutes: 30"))
    start_and_stop(changed, runner)  # another schedule replaces the job (another config path too)
    assert stored_next(changed) < first
    assert stored_job(changed).args == (str(changed.resolve()),)


def test_a_run_missed_within_the_grace_runs_once_at_start(write_config, monkeypatch):
    path = write_config({"schedule": {"interval_minutes": 1}})  # grace 30 s
    calls = []
    runner = counting_run_once(calls)
    start_and_stop(path, runner)
    set_stored_next_run(path, datetime.now(timezone.utc) - timedelta(minutes=3, seconds=10))  # 4 run times passed
    with scheduler_thread(path, runner=runner) as (stop, errors):
        wait_for(lambda: len(calls) >= 1, what="the late run")
        time.sleep(0.5)
    assert len(calls) == 1 and not errors  # coalesced into one run


def test_a_run_missed_beyond_the_grace_is_logged_and_recorded(write_config, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="robot")
    path = write_config({"schedule": {"interval_minutes": 60}})  # grace 30 min
    calls = []
    runner = counting_run_once(calls)
    start_and_stop(path, runner)
    set_stored_next_run(path, datetime.now(timezone.utc) - timedelta(minutes=50))
    ledger = Ledger.in_folder(path.parent / "runs")
    with scheduler_thread(path, runner=runner):
        wait_for(lambda: any(r.status is RunStatus.MISSED for r in ledger.last_runs()), what="the missed run")
    (missed,) = ledger.last_runs()
    assert missed.run_id.startswith("missed-") and "misfire grace of 1800 s" in missed.error
    assert calls == [] and "missed the run scheduled for" in caplog.text


def test_failed_runs_are_logged_by_the_listener(write_config, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="robot")
    path = write_config({"schedule": {"interval_minutes": 60}})

    def broken(config, control):
        raise ModelError("the model is missing")

    runner = broken
    with scheduler_thread(path, run_now=True, runner=runner):
        wait_for(lambda: "run failed: ModelError: the model is missing" in caplog.text, what="the failure log")


# ---------------------------------------------------------------------------- a real process

# `robot run --now` with the fake browser and a slow fake reader, so SIGTERM lands in the middle of a run.
FAKE_ROBOT = """
import contextlib, sys, time, yaml
import robot.cli
from robot.run import RunParts
from tests.conftest import PROJECT_CONFIG
from tests.robot_fakes import FakeDriver, FakeElement, FakeReader, FakeSite, FAKE_USER, FAKE_PASSWORD, grid_png

pages = yaml.safe_load(PROJECT_CONFIG.read_text())["pages"]
site = FakeSite(FAKE_USER, FAKE_PASSWORD, {p["path"]: {t["selector"]: FakeElement(grid_png(t["rows"], t["cols"]))
                                                       for t in p["tables"]} for p in pages})

@contextlib.contextmanager
def open_fake(settings):
    yield FakeDriver(site)

class SlowReader(FakeReader):
    def read(self, image, shape=None, source=""):
        print("reading", source, flush=True)
        time.sleep(0.4)
        return super().read(image, shape, source)

robot.cli.main(obj=RunParts(open_browser=open_fake, load_reader=lambda settings: SlowReader()))
"""


def test_sigterm_stops_after_the_current_table_and_exits_0(write_config, tmp_path):
    path = write_config({"target": {"kind": "url", "url": "http://fake.test"}, "schedule": {"interval_minutes": 60}})
    env = {**os.environ, "ROBOT_USERNAME": "robot-user", "ROBOT_PASSWORD": "pw-" + "Zq7" * 4}
    proc = subprocess.Popen([sys.executable, "-c", FAKE_ROBOT, "run", "--now", "--config", str(path)], cwd=PROJECT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while len(lines) < 2:  # the second table is being read
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith("reading"):
                lines.append(line)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "SIGTERM: finishing the current table, then stopping" in err and "robot run stopped" in err
    output = tmp_path / "runs"
    (run,) = Ledger.in_folder(output).last_runs()
    assert run.status is RunStatus.STOPPED and "SIGTERM" in run.error
    assert run.counts.tables == 2  # the table being read when the signal came was finished, then it stopped
    rows = (output / run.run_id / "cells.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 120
    assert json.loads((output / run.run_id / "run.json").read_text())["errors"][0]["error"] == "RunStopped"
    assert (output / LOCK_FILE).read_text() == "" and current_holder(output) is None


def test_starting_the_scheduler_imports_neither_tensorflow_nor_matplotlib(write_config):
    path = write_config()
    code = (
        "import sys, robot.cli, robot.schedule as s\n"
        "from robot.config import load_config\n"
        f"config = load_config({str(path)!r})\n"
        "trigger = s.build_trigger(config.schedule)\n"
        "sched = s.make_scheduler(config, s.misfire_grace_s(config.schedule, trigger))\n"
        "sched.start(paused=True)\n"
        f"s.install_job(sched, trigger, {str(path)!r}, 1)\n"
        "sched.shutdown()\n"
        "robot.cli.cli.get_command(None, 'run'); robot.cli.cli.get_command(None, 'status')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'matplotlib')"
        " or m.startswith('recognizer.training')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
