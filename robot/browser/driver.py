"""The part of Selenium the robot is written against, and the boundary for its failures.

Everything the robot does with a browser goes through the small `Driver` protocol below,
so unit tests pass a fake and end-to-end tests a real headless Chromium. Selenium's
exceptions become ours here (`browser_errors`) or where a module knows better what they
mean (`robot.browser.manage` at start-up, `robot.browser.waiting` on navigation and waits).
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Protocol

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from urllib3.exceptions import HTTPError as Urllib3Error

from robot.errors import BrowserCrashed

# Exceptions that mean "the browser or its driver failed": translated in `browser_errors`.
DRIVER_FAILURES = (WebDriverException, Urllib3Error, ConnectionError)


class Element(Protocol):
    """The part of a Selenium WebElement the robot uses."""

    @property
    def screenshot_as_png(self) -> bytes: ...

    def clear(self) -> None: ...

    def send_keys(self, *value: str) -> None: ...

    def click(self) -> None: ...

    def is_displayed(self) -> bool: ...


class Driver(Protocol):
    """The part of a Selenium WebDriver the robot uses; tests pass a fake with these members."""

    @property
    def current_url(self) -> str: ...

    @property
    def page_source(self) -> str: ...

    def get(self, url: str) -> None: ...

    def find_elements(self, by: str, value: str) -> list[Element]: ...

    def execute_script(self, script: str, *args: Any) -> Any: ...

    def get_screenshot_as_png(self) -> bytes: ...

    def quit(self) -> None: ...


@contextlib.contextmanager
def browser_errors() -> Iterator[None]:
    """Selenium and driver-connection failures that nothing else translated become `BrowserCrashed`."""
    try:
        yield
    except DRIVER_FAILURES as exc:
        raise BrowserCrashed(f"the browser failed: {first_line(exc)}; rerun with --verbose for details") from exc


def gone(exc: WebDriverException) -> bool:
    """Whether a driver error means the element has left its document: stale, or Chromium's answer, now
    and then mid-navigation, that its node "does not belong to the document" (SeleniumHQ/selenium#15401),
    the same thing under another name."""
    return isinstance(exc, StaleElementReferenceException) or "does not belong to the document" in str(exc)


def first_line(exc: BaseException) -> str:
    """The gist of an exception: its first line, without Selenium's 'For documentation...' tail."""
    text = (getattr(exc, "msg", None) or str(exc) or type(exc).__name__).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split("; For documentation on this error")[0]
