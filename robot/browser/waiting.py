"""Navigation and waits: opening a page, checking its HTTP status, the one polling wait helper.

A site that does not answer becomes `SiteUnreachable`, an HTTP error page `PageLoadFailed`
or `PageNotFound`, a selector that is not CSS `InvalidSelector`, and a wait that times out the
error its caller names (`TableNotFound` unless told), each message naming what was awaited and
on which page.
"""
from __future__ import annotations

import logging
import re
from typing import Callable, TypeVar

from selenium.common.exceptions import (
    InvalidSelectorException,
    NoSuchElementException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from robot.browser.driver import DRIVER_FAILURES, Driver, Element, first_line, gone
from robot.errors import (
    InvalidSelector,
    PageLoadFailed,
    PageNotFound,
    SiteUnreachable,
    TableNotFound,
)
from tablebot.errors import TableBotError

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.1  # how often waits re-check their condition
# The HTTP status of the page shown (Chromium 109+); null where the browser does not say.
NAVIGATION_STATUS_JS = """
const n = performance.getEntriesByType('navigation');
return n.length ? (n[n.length - 1].responseStatus || null) : null;
"""
# Chromium shows its own error page (document URL chrome-error://chromewebdata/) for a site that does not
# answer, and `get` may not raise: the page's error code (ERR_CONNECTION_REFUSED, ...), or null on a real page.
CHROME_ERROR_PAGE_JS = """
if (!document.URL.startsWith('chrome-error://')) return null;
const code = document.querySelector('.error-code');
return (code && code.textContent.trim()) || 'an error page';
"""
RETRY_LATER_STATUS = 429  # Too Many Requests: like a 5xx, worth a later try
SERVER_ERROR_MIN = 500
CLIENT_ERROR_MIN = 400

T = TypeVar("T")


def page_url(base_url: str, path: str) -> str:
    """`path` below `base_url`, keeping any path prefix of the base (unlike urljoin)."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def navigate(driver: Driver, url: str) -> None:
    """Open `url`; a site that does not answer (an error from `get`, or Chromium's own error page)
    becomes `SiteUnreachable`, an HTTP error page
    `PageLoadFailed` (5xx, 429: worth a retry) or `PageNotFound` (other 4xx)."""
    log.debug("opening %s", url)
    try:
        driver.get(url)
    except TimeoutException:
        raise SiteUnreachable(f"{url} did not finish loading in time: check the site, or raise browser.page_load_timeout_s") from None
    except WebDriverException as exc:
        net = re.search(r"net::(ERR_[A-Z_]+)", getattr(exc, "msg", None) or str(exc))
        if net:
            raise unreachable(url, net.group(1)) from None
        raise
    error_page = driver.execute_script(CHROME_ERROR_PAGE_JS)
    if error_page:
        raise unreachable(url, str(error_page))
    check_http_status(driver, url)


def unreachable(url: str, net_error: str) -> SiteUnreachable:
    return SiteUnreachable(f"cannot reach {url} ({net_error}): check that the site is up and target.url is right; "
                           "the robot retries with backoff (retry.attempts)")


def http_status(driver: Driver) -> int | None:
    """The HTTP status of the document shown, where the browser tells it."""
    status = driver.execute_script(NAVIGATION_STATUS_JS)
    return status if isinstance(status, int) and status > 0 else None


def check_http_status(driver: Driver, url: str) -> None:
    status = http_status(driver)
    if status is None or status < CLIENT_ERROR_MIN:
        return
    if status >= SERVER_ERROR_MIN or status == RETRY_LATER_STATUS:
        raise PageLoadFailed(f"{url} answered HTTP {status}: the site has trouble; the robot retries with backoff "
                             "(retry.attempts)")
    raise PageNotFound(f"{url} answered HTTP {status}: check the page's path in config.yaml")


def wait_until(
    driver: Driver,
    condition: Callable[[Driver], T],
    *,
    timeout: float,
    what: str,
    error: type[TableBotError] = TableNotFound,
    hint: str = "",
) -> T:
    """The one polling wait: re-check `condition` until it returns something truthy, else raise `error`.
    An element that left its document meanwhile (`gone`) is looked for again at the next poll.
    A selector the browser refuses as CSS becomes `InvalidSelector` (with `hint`, which names the config key)."""
    wait = WebDriverWait(
        driver, timeout, poll_frequency=POLL_INTERVAL_S,
        ignored_exceptions=(NoSuchElementException,),  # a stale element: `polled`
    )

    def polled(d: Driver) -> T | bool:
        try:
            return condition(d)
        except WebDriverException as exc:
            if gone(exc):  # stale, or Chromium's other name for it (SeleniumHQ/selenium#15401)
                return False
            raise

    try:
        return wait.until(polled)
    except InvalidSelectorException as exc:
        tail = f"; {hint}" if hint else ""
        raise InvalidSelector(f"a selector is not valid CSS ({first_line(exc)}) while waiting for {what}{tail}") from None
    except TimeoutException:
        tail = f"; {hint}" if hint else ""
        raise error(f"timed out after {timeout:g} s waiting for {what} on {current_url(driver)}{tail}") from None


def wait_for(
    driver: Driver,
    css: str,
    timeout: float,
    what: str,
    error: type[TableBotError] = TableNotFound,
    hint: str = "",
) -> Element:
    """Wait until an element matches the CSS selector `css`; return the first match."""

    def first_match(d: Driver) -> Element | bool:
        found = d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else False

    return wait_until(driver, first_match, timeout=timeout, what=f"{what} (selector {css!r})", error=error, hint=hint)


def present(driver: Driver, css: str) -> bool:
    return bool(driver.find_elements(By.CSS_SELECTOR, css))


def current_url(driver: Driver) -> str:
    try:
        return driver.current_url
    except DRIVER_FAILURES:
        return "(the browser did not say which page)"
