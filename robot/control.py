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
from typing import Any, Iterator

from robot.errors import RunStopped

log = logging.getLogger(__name__)

QUIT_WAIT_S = 10.0  # how long a browser gets to quit before its driver process is killed


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
