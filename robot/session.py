"""The run's browser and its login, kept alive across what a long harvest meets.

`BrowserSession` opens the browser, logs in, opens pages and screenshots tables, each
through `browser_errors` (a browser that stops answering becomes `BrowserCrashed`).
`recover` is what `robot.retry.retrying` calls before another try: a crashed browser is
quit and started afresh (at most `retry.browser_restarts` times per run), an expired
session logs in again (at most `retry.relogins` times). Failures go through the session's
run-on-failure policy, which saves the current browser's page once per failure.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Callable, ContextManager, Iterator

from robot.actions import run_actions
from robot.browser.driver import Driver, browser_errors
from robot.browser.runonfailure import RunOnFailure
from robot.browser.sessioncheck import raise_if_logged_out
from robot.browser.snapshots import PageSnapshots
from robot.browser.waiting import page_url
from robot.capture import Capture, capture, group_members, login, open_page
from robot.config import AppConfig, Browser, Login, Page, Retry, TableSpec
from robot.control import RunControl
from robot.errors import (
    BrowserCrashed,
    BrowserError,
    LoginFailed,
    RunStopped,
    SessionExpired,
)
from tablebot.errors import TableBotError

log = logging.getLogger(__name__)

Opener = Callable[[Browser], ContextManager[Driver]]


@dataclass(frozen=True)
class Site:
    base_url: str
    username: str = field(repr=False)
    password: str = field(repr=False)
    user_label: str  # how messages name the user (never by name: messages are written down)
    secrets: tuple[str, ...] = field(repr=False, default=())  # never logged, never written
    # the user name is also kept out of saved pages and Selenium's log records


@dataclass(frozen=True)
class SessionSettings:
    """The parts of the config a browser session uses."""

    browser: Browser
    login: Login
    retry: Retry
    before_each_page: tuple = ()  # actions run on every page before its own (`robot.actions`)

    @classmethod
    def of(cls, config: AppConfig) -> "SessionSettings":
        return cls(config.browser, config.login, config.retry, tuple(config.before_each_page))


class BrowserSession:
    def __init__(self, settings: SessionSettings, site: Site, snapshot_folder: Path | None, control: RunControl,
                 opener: Opener) -> None:
        self.settings, self.site, self.folder, self.control, self.opener = settings, site, snapshot_folder, control, opener
        self.restarts = 0
        self.relogins = 0
        self.logins = 0
        self.driver: Driver | None = None
        # Outlives each browser (restarts register the new one's snapshots) and the session's end:
        # the run names a snapshot saved for the error that stopped it after the browser quit.
        self._on_failure = RunOnFailure()
        self._stack: contextlib.ExitStack | None = None

    # -- life cycle ---------------------------------------------------------------------
    def __enter__(self) -> "BrowserSession":
        self._start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    def _start(self) -> None:
        stack = contextlib.ExitStack()
        try:
            driver = stack.enter_context(self.opener(self.settings.browser))
            stack.enter_context(self.control.browser(driver))
        except BaseException:
            stack.close()
            raise
        self._stack, self.driver = stack, driver
        if self.folder is not None:
            # the user name too: a saved page must not show it, and the profile that may hold it is deleted
            self._on_failure.register(PageSnapshots(driver, self.folder, (*self.site.secrets, self.site.username)).save)

    def _stop(self) -> None:
        stack, self._stack = self._stack, None
        self.driver = None
        if stack is not None:
            stack.close()

    # -- what the run does -----------------------------------------------------------------
    def login(self) -> None:
        with browser_errors():
            login(self.driver, self.site.base_url, self.settings.login, self.site.username, self.site.password,
                  timeout=self.settings.browser.wait_timeout_s, user_label=self.site.user_label)
        self.logins += 1

    def open(self, page: Page) -> None:
        with browser_errors():
            open_page(self.driver, self.site.base_url, page, self.settings.login)

    def act(self, page: Page) -> None:
        """The open page's actions: `before_each_page`, then its own (`robot.actions`; a failed one: `ActionFailed`)."""
        timeout = self.settings.browser.wait_timeout_s
        with browser_errors():
            run_actions(self.driver, page.name, self.settings.before_each_page, timeout=timeout,
                        steps="before_each_page step")
            run_actions(self.driver, page.name, page.actions, timeout=timeout)

    def capture(self, page: Page, spec: TableSpec) -> Capture:
        login_url = page_url(self.site.base_url, self.settings.login.path)

        def logged_out(driver: Driver) -> None:  # or was the image (in its frame) sent to the login page?
            raise_if_logged_out(driver, spec.selector, login_url, f"table {page.name}/{spec.name}")

        with browser_errors():
            return capture(self.driver, page, spec, timeout=self.settings.browser.wait_timeout_s,
                           on_missing=logged_out)

    def members(self, page: Page, spec: TableSpec) -> list[TableSpec]:
        """The tables a `name_from` spec stands for on the open page (`robot.capture.group_members`)."""
        with browser_errors():
            return group_members(self.driver, page, spec, timeout=self.settings.browser.wait_timeout_s)

    def recover(self, exc: TableBotError) -> None:
        """Make the next try possible after the transient error `exc`."""
        limits = self.settings.retry
        if isinstance(exc, BrowserCrashed):
            self.restarts += 1
            if self.restarts > limits.browser_restarts:
                raise BrowserError(f"the browser crashed {self.restarts} times in this run, last: {exc}; "
                                   "check free memory and `chromium --version`, or raise retry.browser_restarts")
            log.warning("restarting the browser (%d of at most %d this run)", self.restarts, limits.browser_restarts)
            self._stop()
            self._start()
            self.login()
        elif isinstance(exc, SessionExpired):
            self.relogins += 1
            if self.relogins > limits.relogins:
                raise LoginFailed(f"the session expired {self.relogins} times in this run: the site keeps logging "
                                  "the robot out; raise retry.relogins or check the site's session length")
            log.warning("the session expired: logging in again (%d of at most %d this run)", self.relogins,
                        limits.relogins)
            self.login()

    # -- failures ----------------------------------------------------------------------------
    def snapshot(self, label: str, exc: BaseException) -> str | None:
        """Save the page as it is now for `exc` as `failure__<label>`, once: a later call for `exc`
        saves nothing and returns the same name. None without a snapshot folder or when saving failed."""
        return self._on_failure.run(label, exc)

    def snapshot_name(self, exc: BaseException) -> str | None:
        """The name of the snapshot already saved for `exc`, if any (still known after the session ended)."""
        return self._on_failure.result(exc)

    @contextlib.contextmanager
    def snapshot_on_failure(self) -> Iterator[None]:
        """An error that ends the run saves the page (labelled by the error's class) before the browser quits."""
        try:
            yield
        except TableBotError as exc:
            if not isinstance(exc, RunStopped):
                self.snapshot(type(exc).__name__, exc)
            raise
