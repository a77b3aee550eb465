"""The seam between the robot and the browser.

Everything the robot does with a browser goes through the small `Driver` protocol below,
so unit tests pass a fake and end-to-end tests a real headless Chromium. This module is
the one boundary where Selenium's exceptions become ours (`BrowserError`, `SiteUnreachable`,
and the `TableNotFound`/`LoginFailed` that waits raise), and it holds the one polling wait
helper. On a failure the page is saved once (screenshot + source, passwords redacted).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from urllib3.exceptions import HTTPError as Urllib3Error

from robot.config import Browser
from robot.errors import (
    BrowserCrashed,
    BrowserError,
    PageLoadFailed,
    PageNotFound,
    SiteUnreachable,
    TableNotFound,
)
from tablebot.errors import TableBotError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger("tablebot.robot.browser")

# Headless Chromium that also runs as root in a container, talks to nothing but the target.
HEADLESS_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
POLL_INTERVAL_S = 0.1  # how often waits re-check their condition
REDACTED = "***"
# The HTTP status of the page shown (Chromium 109+); null where the browser does not say.
NAVIGATION_STATUS_JS = """
const n = performance.getEntriesByType('navigation');
return n.length ? (n[n.length - 1].responseStatus || null) : null;
"""
RETRY_LATER_STATUS = 429  # Too Many Requests: like a 5xx, worth a later try
SERVER_ERROR_MIN = 500
CLIENT_ERROR_MIN = 400
# Exceptions that mean "the browser or its driver failed": translated in `browser_errors`.
DRIVER_FAILURES = (WebDriverException, Urllib3Error, ConnectionError)

T = TypeVar("T")


class Element(Protocol):
    """The part of a Selenium WebElement the robot uses."""

    @property
    def screenshot_as_png(self) -> bytes: ...

    def clear(self) -> None: ...

    def send_keys(self, *value: str) -> None: ...

    def click(self) -> None: ...


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


# ---------------------------------------------------------------------------- starting

@contextlib.contextmanager
def open_browser(settings: Browser) -> Iterator[Driver]:
    """Start headless Chromium (local chromedriver, or `remote_url`); quit it and delete its profile after."""
    profile = None if settings.remote_url else Path(tempfile.mkdtemp(prefix="tablebot-chromium-"))
    try:
        driver = _start(settings, profile)
        try:
            with browser_errors():
                driver.set_page_load_timeout(settings.page_load_timeout_s)
            yield driver
        finally:
            _quit(driver)
    finally:
        if profile is not None:
            kill_left_behind(profile)
            shutil.rmtree(profile, ignore_errors=True)


def kill_left_behind(profile: Path) -> list[int]:
    """SIGKILL browser processes still running on `profile`: a chromedriver that crashed or was killed
    leaves its Chromium behind, which nothing would ever quit. Linux (/proc); a no-op elsewhere."""
    marker = f"--user-data-dir={profile}\0".encode()  # one whole argument
    killed = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker not in (proc / "cmdline").read_bytes():
                continue
            os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
        killed.append(int(proc.name))
    if killed:
        log.warning("killed %d browser processes left behind by a chromedriver that had stopped", len(killed))
    return killed


def chrome_options(settings: Browser, profile: Path | None, chromium: str | None = None):
    """The ChromeOptions for a run: headless flags, window, scale, a fresh profile, then `extra_args`."""
    from selenium.webdriver import ChromeOptions

    options = ChromeOptions()
    for arg in HEADLESS_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--window-size={settings.window_width},{settings.window_height}")
    options.add_argument(f"--force-device-scale-factor={settings.device_scale_factor:g}")
    if profile is not None:
        options.add_argument(f"--user-data-dir={profile}")
    for arg in settings.extra_args:
        options.add_argument(arg)
    if chromium:
        options.binary_location = chromium
    return options


def find_chromium(settings: Browser) -> str:
    if settings.chromium_path is not None:
        if not settings.chromium_path.is_file():
            raise BrowserError(f"browser.chromium_path {settings.chromium_path} does not exist: fix the path or remove it")
        return str(settings.chromium_path)
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    raise BrowserError("chromium not found on PATH: apt-get install chromium chromium-driver, or set browser.chromium_path")


def find_chromedriver(settings: Browser) -> str:
    if settings.chromedriver_path is not None:
        if not settings.chromedriver_path.is_file():
            raise BrowserError(
                f"browser.chromedriver_path {settings.chromedriver_path} does not exist: fix the path or remove it"
            )
        return str(settings.chromedriver_path)
    if found := shutil.which("chromedriver"):
        return found
    if settings.use_webdriver_manager:
        return _download_chromedriver()
    raise BrowserError(
        "chromedriver not found on PATH: apt-get install chromium-driver, or set browser.chromedriver_path "
        "(or browser.use_webdriver_manager: true where there is internet)"
    )


def _download_chromedriver() -> str:
    try:
        from webdriver_manager.chrome import ChromeDriverManager
    except ImportError:
        raise BrowserError("browser.use_webdriver_manager is set but webdriver-manager is not installed: "
                           "pip install 'tablebot[webdriver-manager]'") from None
    try:
        return ChromeDriverManager().install()
    except Exception as exc:  # its network and file errors vary; all mean "no driver"
        raise BrowserError(f"webdriver-manager could not download a chromedriver ({_first_line(exc)}): "
                           "apt-get install chromium-driver and set browser.use_webdriver_manager: false") from None


def _start(settings: Browser, profile: Path | None) -> Any:
    from selenium import webdriver

    if settings.remote_url:
        options = chrome_options(settings, None, str(settings.chromium_path) if settings.chromium_path else None)
        log.debug("connecting to the remote WebDriver at %s", settings.remote_url)
        try:
            return webdriver.Remote(command_executor=settings.remote_url, options=options)
        except DRIVER_FAILURES as exc:
            raise BrowserError(f"cannot start a browser at the Selenium server {settings.remote_url}: "
                               f"{_first_line(exc)}; check browser.remote_url and that the server is up") from None
    chromium, chromedriver = find_chromium(settings), find_chromedriver(settings)
    options = chrome_options(settings, profile, chromium)
    log.debug("starting %s with %s", chromium, chromedriver)
    try:
        return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    except DRIVER_FAILURES as exc:
        raise start_error(exc, chromium, chromedriver) from None


def start_error(exc: BaseException, chromium: str, chromedriver: str) -> BrowserError:
    """A start failure as one actionable line."""
    text = getattr(exc, "msg", None) or str(exc)
    supports = re.search(r"only supports Chrome version (\d+)", text)
    current = re.search(r"Current browser version is ([\d.]+)", text)
    if supports:
        found = f"chromium {current.group(1)}" if current else "the installed chromium"
        return BrowserError(
            f"chromedriver {supports.group(1)} does not match {found}: install matching versions "
            "(apt-get install chromium chromium-driver) or point browser.chromedriver_path at a matching driver"
        )
    if re.search(r"cannot find Chrome binary|no chrome binary", text, re.I):
        return BrowserError(f"chromedriver cannot find chromium at {chromium}: apt-get install chromium or set browser.chromium_path")
    if re.search(r"Service .* unexpectedly exited", text):
        return BrowserError(f"chromedriver ({chromedriver}) exited at once: check that `{chromedriver} --version` runs, "
                            "or point browser.chromedriver_path at a working driver")
    if re.search(r"DevToolsActivePort|Chrome failed to start|chrome not reachable|crashed|instance exited", text, re.I):
        return BrowserError(
            f"chromium ({chromium}) failed to start: {_first_line(exc)}; check that `{chromium} --headless=new --version` "
            "runs and review browser.extra_args"
        )
    return BrowserError(f"cannot start chromium through {chromedriver}: {_first_line(exc)}")


def _quit(driver: Any) -> None:
    try:
        driver.quit()
    except DRIVER_FAILURES as exc:  # the browser may already be gone; the run's own error matters more
        log.warning("the browser did not quit cleanly: %s", _first_line(exc))


# ---------------------------------------------------------------------------- using

def page_url(base_url: str, path: str) -> str:
    """`path` below `base_url`, keeping any path prefix of the base (unlike urljoin)."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def navigate(driver: Driver, url: str) -> None:
    """Open `url`; a site that does not answer becomes `SiteUnreachable`, an HTTP error page
    `PageLoadFailed` (5xx, 429: worth a retry) or `PageNotFound` (other 4xx)."""
    log.debug("opening %s", url)
    try:
        driver.get(url)
    except TimeoutException:
        raise SiteUnreachable(f"{url} did not finish loading in time: check the site, or raise browser.page_load_timeout_s") from None
    except WebDriverException as exc:
        net = re.search(r"net::(ERR_[A-Z_]+)", getattr(exc, "msg", None) or str(exc))
        if net:
            raise SiteUnreachable(f"cannot reach {url} ({net.group(1)}): check that the site is up and target.url is right") from None
        raise
    check_http_status(driver, url)


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
    """The one polling wait: re-check `condition` until it returns something truthy, else raise `error`."""
    wait = WebDriverWait(
        driver, timeout, poll_frequency=POLL_INTERVAL_S,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    try:
        return wait.until(condition)
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


@contextlib.contextmanager
def browser_errors() -> Iterator[None]:
    """Selenium and driver-connection failures that nothing else translated become `BrowserError`."""
    try:
        yield
    except DRIVER_FAILURES as exc:
        raise BrowserCrashed(f"the browser failed: {_first_line(exc)}; rerun with --verbose for details") from exc


# ---------------------------------------------------------------------------- failures and secrets

class FailureSnapshots:
    """Saves what the page looked like at a failure, once per failure: `failure__<label>.png` and `.html`.

    The saved source has every secret replaced by `***`. With `folder=None` nothing is saved.
    """

    def __init__(self, driver: Driver, folder: Path | None, secrets: Iterable[str] = ()):
        self.driver = driver
        self.folder = folder
        self.secrets = tuple(s for s in secrets if s)
        self.saved: list[Path] = []

    def save(self, label: str, exc: BaseException) -> None:
        """Save the page once for `exc`; on success `exc` carries the snapshot's name (see `results.snapshot_of`)."""
        if self.folder is None or getattr(exc, "_tablebot_snapshot", False):
            return
        exc._tablebot_snapshot = True  # type: ignore[attr-defined]
        stem = self.folder / f"failure__{label}"
        try:
            png, html = self.driver.get_screenshot_as_png(), self.driver.page_source
            write_bytes_atomic(stem.with_suffix(".png"), png)
            with atomic_open(stem.with_suffix(".html"), "w") as stream:
                stream.write(redact(html, self.secrets))
        except (*DRIVER_FAILURES, TableBotError) as err:
            log.warning("could not save the page at the failure: %s", _first_line(err))
            return
        exc._tablebot_snapshot = stem.name  # type: ignore[attr-defined]
        self.saved += [stem.with_suffix(".png"), stem.with_suffix(".html")]
        log.info("the page at the failure is saved as %s.png and .html", stem)

    @contextlib.contextmanager
    def on_failure(self, label: str | None = None) -> Iterator["FailureSnapshots"]:
        """Save a snapshot for an error leaving the block (labelled by its class unless given), then re-raise."""
        try:
            yield self
        except (TableBotError, *DRIVER_FAILURES) as exc:
            self.save(label or type(exc).__name__, exc)
            raise


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class _RedactFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            record.msg, record.args = redact(message, self.secrets), ()
        return True


# Selenium logs every WebDriver command body at DEBUG, send_keys text included.
_SELENIUM_COMMAND_LOGGER = "selenium.webdriver.remote.remote_connection"


@contextlib.contextmanager
def secrets_hidden_from_logs(secrets: Iterable[str]) -> Iterator[None]:
    """While inside, log records that contain a secret have it replaced by `***` (Selenium's and ours)."""
    hidden = tuple(s for s in secrets if s)
    if not hidden:
        yield
        return
    flt = _RedactFilter(hidden)
    targets = [logging.getLogger(_SELENIUM_COMMAND_LOGGER), *logging.getLogger().handlers]
    for target in targets:
        target.addFilter(flt)
    try:
        yield
    finally:
        for target in targets:
            target.removeFilter(flt)


def _first_line(exc: BaseException) -> str:
    """The gist of an exception: its first line, without Selenium's 'For documentation...' tail."""
    text = (getattr(exc, "msg", None) or str(exc) or type(exc).__name__).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split("; For documentation on this error")[0]
