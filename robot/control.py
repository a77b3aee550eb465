"""Stopping a run from another thread: gently between two tables, or hard by quitting its browser.

`run_once` checks its `RunControl` before each page and each table and waits out retry
backoffs on it; a signal handler or the scheduler's time limit calls `request_stop` (the
current table is finished, then the run stops) and, if that takes too long, `kill_browser`
(the browser is quit under the run, whose current table is dropped whole).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from robot.errors import RunStopped

log = logging.getLogger(__name__)

QUIT_WAIT_S = 10.0  # how long a browser gets to quit before its driver process is killed
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards the driver
        self._reason_lock = threading.Lock()
        self._driver: Any = None
        self.reason = ""

    # -- asked from other threads -------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        """Stop at the next page or table boundary; the first reason given is kept."""
        with self._reason_lock:
            if not self._stop.is_set():
                self.reason = reason
                self._stop.set()
        log.info("stopping the run: %s", reason)

    def stop_now(self, reason: str) -> None:
        """Stop and quit the browser at once: the current table is dropped whole."""
        with self._lock:
            driver = self._driver  # taken before the run, seeing the stop, lets go of it
            self.request_stop(reason)
        self._quit(driver)

    def kill_browser(self) -> None:
        """Quit the run's browser now (from another thread); kill its driver process if quitting hangs."""
        with self._lock:
            driver = self._driver
        self._quit(driver)

    def _quit(self, driver: Any) -> None:
        if driver is None:
            return
        log.warning("quitting the browser under the running run")
        quitter = threading.Thread(target=_quiet_quit, args=(driver,), name="kill-browser", daemon=True)
        quitter.start()
        quitter.join(QUIT_WAIT_S)
        if quitter.is_alive():
            kill_driver_processes(driver)

    # -- used by the run ---------------------------------------------------------------
    def check(self) -> None:
        """Raise `RunStopped` if a stop was requested."""
        if self._stop.is_set():
            raise RunStopped(self.reason or "the run was asked to stop")

    def wait(self, seconds: float) -> None:
        """Wait `seconds` (a retry backoff) unless a stop is requested meanwhile: then raise `RunStopped`."""
        if self._stop.wait(max(0.0, seconds)):
            self.check()

    @contextlib.contextmanager
    def browser(self, driver: Any) -> Iterator[Any]:
        """While inside, `kill_browser` can reach `driver`."""
        with self._lock:
            self._driver = driver
        try:
            yield driver
        finally:
            with self._lock:
                if self._driver is driver:
                    self._driver = None


@contextlib.contextmanager
def stop_on_signals(first: Callable[[str], None], again: Callable[[str], None]) -> Iterator[None]:
    """While inside, SIGINT/SIGTERM call `first(<signal name>)`, and any later one `again(<signal name>)`,
    in place of Python's KeyboardInterrupt and the default death by SIGTERM, which would leave the
    browser running and the ledger saying `running`. Main thread only: elsewhere it installs nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen = threading.Event()

    def handler(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if seen.is_set():
            again(name)
            return
        seen.set()
        first(name)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def stop_run_on_signals(control: RunControl) -> contextlib.AbstractContextManager[None]:
    """For one run in the main thread (`robot run-once`): a signal stops it after the current table,
    a second one quits its browser at once."""

    def first(name: str) -> None:
        log.info("%s: finishing the current table, then stopping", name)
        control.request_stop(f"the robot was asked to stop ({name})")

    def again(name: str) -> None:
        log.warning("%s again: quitting the browser now", name)
        threading.Thread(target=control.kill_browser, name="kill-browser", daemon=True).start()

    return stop_on_signals(first, again)


def _quiet_quit(driver: Any) -> None:
    try:
        driver.quit()
    except Exception as exc:  # the browser may be gone already: quitting is all that is wanted
        log.debug("quit under a stopping run: %s", exc)


def kill_driver_processes(driver: Any) -> None:
    """SIGKILL a local chromedriver and the browser processes under it (a remote browser has none here)."""
    process = getattr(getattr(driver, "service", None), "process", None)
    pid = getattr(process, "pid", None)
    if not pid:
        return
    for child in [*descendants(pid), pid]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
    log.warning("killed chromedriver (pid %d) and its browser", pid)


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively, deepest first (Linux /proc; empty elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for child in children:
            found += [*descendants(child), child]
    return found
