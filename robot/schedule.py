"""`run_once` on the schedule in config.yaml, for weeks, unattended (what `robot run` starts).

APScheduler runs one job, `harvest(config_path)`, from a persistent job store (SQLite in the
output folder unless `schedule.jobstore_url` names a database), so a restart picks up the
stored next run time instead of starting the clock over. Runs never overlap
(`max_instances=1`), runs missed while the robot was down are coalesced into one
(`coalesce=True`) and run late only within a misfire grace time that suits the schedule
(`schedule.misfire_grace_s`, default half the period). Each run has a hard time limit
(`schedule.run_time_limit_s`) after which its browser is quit. SIGINT/SIGTERM stop cleanly:
the current table is finished (or, after `schedule.stop_grace_s`, dropped whole when the
browser is quit), the scheduler shuts down, the lock is released, exit 0.

Importing this module loads APScheduler and SQLAlchemy, never the model or matplotlib:
the run (`robot.run`) is imported inside the job, and the recognizer inside the run.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from robot.browser.manage import reap_left_behind
from robot.config import AppConfig, Schedule, load_config
from robot.control import RunControl, stop_on_signals
from robot.crontab import CrontabError, crontab_trigger
from robot.errors import RunStopped
from robot.ledger import Ledger, RunStatus, recover_cut_off_runs
from robot.lock import OutputLock
from tablebot.clock import utc_now
from tablebot.errors import ConfigError, TableBotError

log = logging.getLogger(__name__)

JOB_ID = "harvest"
JOBSTORE_FILE = "schedule.sqlite"
JOBSTORE_TABLE = "apscheduler_jobs"
MAIN_LOOP_TICK_S = 1.0  # how often the main thread re-checks for a stop (signals also wake it)


# ---------------------------------------------------------------------------- the schedule, pure

def build_trigger(schedule: Schedule) -> BaseTrigger:
    """The APScheduler trigger for `schedule.cron` (a crontab expression: `robot.crontab`) or
    `schedule.interval_minutes` (the config allows one of them, and requires one)."""
    if schedule.cron:
        try:
            return crontab_trigger(schedule.cron)
        except CrontabError as exc:
            raise ConfigError(f"schedule.cron {schedule.cron!r} is not a crontab expression ({exc}): "
                              "give five fields, minute hour day month weekday, e.g. '*/30 * * * *'") from None
    if schedule.interval_minutes is None:
        raise ConfigError("give schedule.cron or schedule.interval_minutes in config.yaml")
    return IntervalTrigger(seconds=schedule.interval_minutes * 60)


def period_s(trigger: BaseTrigger, now: datetime) -> float:
    """Seconds between two consecutive runs (for cron: between the next two)."""
    if isinstance(trigger, IntervalTrigger):
        return trigger.interval.total_seconds()
    first = trigger.get_next_fire_time(None, now)
    if first is None:
        return 0.0
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return (second - first).total_seconds() if second else 0.0


def misfire_grace_s(schedule: Schedule, trigger: BaseTrigger, now: datetime | None = None) -> int:
    """How late a run may still start: `schedule.misfire_grace_s`, else half the period (at least 1 s)."""
    if schedule.misfire_grace_s is not None:
        return schedule.misfire_grace_s
    return max(1, int(period_s(trigger, now or utc_now()) / 2))


def jobstore_url(config: AppConfig) -> str:
    return config.schedule.jobstore_url or f"sqlite:///{config.output.folder.resolve() / JOBSTORE_FILE}"


def describe_schedule(schedule: Schedule) -> str:
    if schedule.cron:
        return f"cron {schedule.cron!r}"
    return f"every {schedule.interval_minutes:g} min"


# ---------------------------------------------------------------------------- the job

@dataclass(frozen=True)
class Outcome:
    """What one scheduled run came to; the listener logs it."""

    status: RunStatus
    message: str


if TYPE_CHECKING:
    from robot.results import RunResult
    from robot.run import RunParts

# What a scheduled run calls: `robot.run.run_once` with the scheduler's `RunParts`.
Runner = Callable[[AppConfig, RunControl], "RunResult"]


def runner_for(parts: "RunParts | None" = None) -> Runner:
    def run(config: AppConfig, control: RunControl) -> "RunResult":
        from robot.run import (  # the run's imports load in the job, not at start-up
            RunParts,
            run_once,
        )

        return run_once(config, parts=parts or RunParts(), control=control)

    return run


class ActiveRuns:
    """The runs going on in this process, so that a signal handler can stop them, and what they call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._controls: set[RunControl] = set()
        self._closing = ""
        self.runner: Runner = runner_for()  # set by `run_scheduler` for its jobs

    @contextlib.contextmanager
    def run(self, time_limit_s: float) -> Iterator[RunControl]:
        """A `RunControl` for one run, stopped and its browser quit when `time_limit_s` passes."""
        control = RunControl()
        with self._lock:
            if self._closing:
                control.request_stop(self._closing)
            self._controls.add(control)
        timer = threading.Timer(time_limit_s, _time_up, args=(control, time_limit_s))
        timer.daemon = True
        timer.start()
        try:
            yield control
        finally:
            timer.cancel()
            timer.join()  # a time limit that fired has quit the browser before the next run can start
            with self._lock:
                self._controls.discard(control)

    def stop_all(self, reason: str) -> None:
        """Stop the runs going on and any started from now on."""
        with self._lock:
            self._closing = reason
            controls = list(self._controls)
        for control in controls:
            control.request_stop(reason)

    def kill_browsers(self) -> None:
        with self._lock:
            controls = list(self._controls)
        for control in controls:
            control.kill_browser()

    def reopen(self) -> None:
        """Allow runs again, once the scheduler that stopped them is shut down."""
        with self._lock:
            self._closing = ""

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._controls)


ACTIVE = ActiveRuns()


def _time_up(control: RunControl, limit_s: float) -> None:
    control.stop_now(f"the run took longer than schedule.run_time_limit_s ({limit_s:g} s): "
                     "raise it, or check why the site or the recognizer is slow")


def harvest(config_path: str, runner: Runner | None = None) -> Outcome:
    """The scheduled job: load the config, then the run (`runner`, default `ACTIVE.runner`) under the time limit.

    Module level and given only the config's path, so that the persistent job store can
    pickle a reference to it.
    """
    try:
        config = load_config(config_path)
    except TableBotError as exc:
        return Outcome(RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
    runner = runner or ACTIVE.runner
    with ACTIVE.run(config.schedule.run_time_limit_s) as control:
        try:
            control.check()
            result = runner(config, control)
        except RunStopped as exc:
            return Outcome(RunStatus.STOPPED, str(exc))
        except TableBotError as exc:
            return Outcome(RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
    summary = (f"run {result.run_id}: {len(result.tables)} tables written, {len(result.unchanged)} unchanged, "
               f"{result.cells} cells, {result.flagged} flagged")
    if result.errors:
        failed = "; ".join(f"{f.where}: {f.error}" for f in result.errors)
        return Outcome(RunStatus.PARTIAL, f"{summary}; failed: {failed}")
    return Outcome(RunStatus.OK, summary)


# ---------------------------------------------------------------------------- the scheduler

class _Listener:
    """Logs every run's outcome, missed runs (and records them in the ledger), and overlapping runs."""

    def __init__(self, ledger: Ledger, grace_s: int) -> None:
        self.ledger, self.grace_s = ledger, grace_s

    def __call__(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            when = event.scheduled_run_time
            reason = (f"the robot was not running (or was busy) at {when:%Y-%m-%d %H:%M:%S %Z} and it is now past "
                      f"the misfire grace of {self.grace_s} s")
            log.warning("missed the run scheduled for %s: %s", when, reason)
            with contextlib.suppress(TableBotError):
                self.ledger.run_missed(when, reason)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("skipped a run: the previous run is still going (see schedule.run_time_limit_s)")
        elif event.code == EVENT_JOB_ERROR:
            log.error("the run crashed: %s: %s\n%s", type(event.exception).__name__, event.exception,
                      event.traceback or "")
        elif event.code == EVENT_JOB_EXECUTED:
            outcome: Outcome = event.retval
            if outcome.status in (RunStatus.FAILED, RunStatus.PARTIAL):
                log.error("run %s: %s", outcome.status.value, outcome.message)
            elif outcome.status is RunStatus.STOPPED:
                log.warning("run stopped: %s", outcome.message)
            else:
                log.info("%s", outcome.message)


def make_scheduler(config: AppConfig, grace_s: int) -> BackgroundScheduler:
    if not config.schedule.jobstore_url:
        config.output.folder.mkdir(parents=True, exist_ok=True)  # where the default SQLite job store goes
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=jobstore_url(config), tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace_s},
    )


def trigger_key(trigger: BaseTrigger) -> tuple[str, str]:
    """What makes two triggers the same schedule: `interval[1:00:00]` or `cron[...]`, and the time zone
    (not an interval's start date, which is the moment it was built)."""
    return str(trigger), str(getattr(trigger, "timezone", ""))


def install_job(scheduler: BackgroundScheduler, trigger: BaseTrigger, config_path: Path, grace_s: int,
                *, run_now: bool = False) -> datetime | None:
    """Keep the stored job when its schedule is unchanged (its stored next run time survives a restart),
    else replace it. Returns the next run time."""
    args = (str(config_path),)
    job = scheduler.get_job(JOB_ID)
    same = (job is not None and trigger_key(job.trigger) == trigger_key(trigger) and tuple(job.args) == args
            and job.misfire_grace_time == grace_s and job.next_run_time is not None)
    if same:
        log.info("resuming the stored schedule")
    else:
        job = scheduler.add_job(harvest, trigger, args=list(args), id=JOB_ID, name="harvest", replace_existing=True,
                                coalesce=True, max_instances=1, misfire_grace_time=grace_s)
    if run_now:
        job = scheduler.modify_job(JOB_ID, next_run_time=utc_now())
    return job.next_run_time


def run_scheduler(config_path: Path, *, run_now: bool = False, stop: threading.Event | None = None,
                  parts: "RunParts | None" = None, runner: Runner | None = None) -> None:
    """Hold the output folder's lock and run the schedule until SIGINT/SIGTERM (or `stop` is set).

    Each run is `runner(config, control)`, by default `run_once` with `parts`."""
    config_path = Path(config_path).resolve()
    config = load_config(config_path)
    trigger = build_trigger(config.schedule)
    grace_s = misfire_grace_s(config.schedule, trigger)
    stop = stop or threading.Event()
    with OutputLock(config.output.folder, "robot run"):
        recover_cut_off_runs(config.output.folder)
        reap_left_behind()  # browsers of a robot that died: their memory now, not at the first run
        try:
            scheduler = make_scheduler(config, grace_s)
            scheduler.start(paused=True)
        except Exception as exc:  # SQLAlchemy's errors for a bad or unreachable jobstore_url, or a missing driver
            raise ConfigError(f"cannot open the job store {jobstore_url(config)}: {str(exc).splitlines()[0]}; "
                              "check schedule.jobstore_url (and that its database driver is installed)") from None
        scheduler.add_listener(_Listener(Ledger.in_folder(config.output.folder), grace_s),
                               EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES)
        ACTIVE.reopen()
        ACTIVE.runner = runner or runner_for(parts)
        with _stop_on_signals(stop):
            try:
                next_run = install_job(scheduler, trigger, config_path, grace_s, run_now=run_now)
                scheduler.resume()
                log.info("robot run: %s (misfire grace %d s, time limit %g s per run); next run %s; "
                         "output in %s; stop with Ctrl+C or SIGTERM", describe_schedule(config.schedule), grace_s,
                         config.schedule.run_time_limit_s, _when(next_run), config.output.folder)
                while not stop.wait(MAIN_LOOP_TICK_S):
                    pass
            finally:
                _shut_down(scheduler, config.schedule.stop_grace_s)
    log.info("robot run stopped")


def _shut_down(scheduler: BackgroundScheduler, grace_s: float) -> None:
    """Let the current run finish its table and stop; quit its browser if that takes longer than `grace_s`."""
    ACTIVE.stop_all("the robot was asked to stop (SIGINT/SIGTERM)")
    killer = threading.Timer(grace_s, ACTIVE.kill_browsers)
    killer.daemon = True
    killer.start()
    try:
        if scheduler.running:
            scheduler.shutdown(wait=True)
    finally:
        killer.cancel()
        ACTIVE.reopen()
        ACTIVE.runner = runner_for()


def _stop_on_signals(stop: threading.Event) -> contextlib.AbstractContextManager[None]:
    """SIGINT/SIGTERM set `stop`; a second one also quits the running browser at once. Main thread only."""

    def first(name: str) -> None:
        log.info("%s: finishing the current table, then stopping", name)
        stop.set()
        ACTIVE.stop_all(f"the robot was asked to stop ({name})")

    def again(name: str) -> None:
        log.warning("%s again: quitting the browser now", name)
        threading.Thread(target=ACTIVE.kill_browsers, daemon=True).start()

    return stop_on_signals(first, again)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never (the schedule has no further run)"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


# ---------------------------------------------------------------------------- for `robot status`

def stored_next_run(config: AppConfig) -> datetime | None:
    """The next run time in the job store, without starting a scheduler (None: nothing scheduled)."""
    from sqlalchemy import column, create_engine, inspect, select, table
    from sqlalchemy.engine import make_url

    url = make_url(jobstore_url(config))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as con:
            if not inspect(con).has_table(JOBSTORE_TABLE):
                return None
            jobs = table(JOBSTORE_TABLE, column("id"), column("next_run_time"))
            value = con.execute(select(jobs.c.next_run_time).where(jobs.c.id == JOB_ID)).scalar()
    finally:
        engine.dispose()
    return None if value is None else datetime.fromtimestamp(float(value), timezone.utc)


def describe_next_run(config: AppConfig) -> str:
    try:
        moment = stored_next_run(config)
    except Exception as exc:  # any database driver's error: status must still print the ledger
        return f"unknown: cannot read the job store {jobstore_url(config)} ({str(exc).splitlines()[0]})"
    if moment is None:
        return f"none scheduled: start `robot run` ({describe_schedule(config.schedule)})"
    late = utc_now() - moment
    note = " (overdue: it runs when `robot run` is running, if within the misfire grace)" if late.total_seconds() > 0 else ""
    return f"{_when(moment)} ({describe_schedule(config.schedule)}){note}"
