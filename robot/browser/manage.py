"""Finding, starting and quitting headless Chromium.

`open_browser` starts Chromium through a local chromedriver (or connects to a Selenium
server at `browser.remote_url`) with a fresh profile, and quits it and deletes the profile
after, killing what a crashed chromedriver left behind. A browser that cannot start
becomes one actionable `BrowserError` (`start_error`).
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
from typing import Any, Iterator

from robot.browser.driver import DRIVER_FAILURES, Driver, browser_errors, first_line
from robot.config import Browser
from robot.errors import BrowserError

log = logging.getLogger(__name__)

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
        raise BrowserError(f"webdriver-manager could not download a chromedriver ({first_line(exc)}): "
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
                               f"{first_line(exc)}; check browser.remote_url and that the server is up") from None
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
            f"chromium ({chromium}) failed to start: {first_line(exc)}; check that `{chromium} --headless=new --version` "
            "runs and review browser.extra_args"
        )
    return BrowserError(f"cannot start chromium through {chromedriver}: {first_line(exc)}")


def _quit(driver: Any) -> None:
    try:
        driver.quit()
    except DRIVER_FAILURES as exc:  # the browser may already be gone; the run's own error matters more
        log.warning("the browser did not quit cleanly: %s", first_line(exc))
