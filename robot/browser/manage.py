"""Finding, starting and quitting headless Chromium.

`open_browser` starts Chromium through a local chromedriver (or connects to a Selenium
server at `browser.remote_url`) with a fresh profile, and quits it and deletes the profile
after, killing what a crashed chromedriver left behind. A browser that cannot start
becomes one actionable `BrowserError` (`start_error`).

A profile may hold what was typed into the site (Chromium's "Web Data"), so none may outlive
its robot. Its folder's name carries the robot's pid (`tablebot-chromium-<pid>-<random>`), and
every start reaps the profiles of robots that died without cleaning up (`kill -9`, power
loss): it kills the browsers still running on them and deletes them (`reap_left_behind`).
chromedriver is also started to die with the robot (Linux's parent-death signal).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from robot.browser.driver import DRIVER_FAILURES, Driver, browser_errors, first_line
from robot.config import Browser
from robot.control import descendants
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
PROFILE_PREFIX = "tablebot-chromium-"
PROFILE_NAME = re.compile(rf"^{PROFILE_PREFIX}(?:(\d+)-)?")  # older robots wrote no pid
PR_SET_PDEATHSIG = 1  # prctl(2)
REAP_WAIT_S = 5.0  # how long killed browsers get to be gone before their profile is deleted
REAP_POLL_S = 0.05
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@contextlib.contextmanager
def open_browser(settings: Browser) -> Iterator[Driver]:
    """Start headless Chromium (local chromedriver, or `remote_url`); quit it and delete its profile after."""
    reap_left_behind()
    profile = None if settings.remote_url else new_profile()
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


def new_profile(temp_folder: Path | None = None) -> Path:
    """A fresh, private profile folder named for this process."""
    return Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-", dir=temp_folder))


def reap_left_behind(temp_folder: Path | None = None) -> list[Path]:
    """Kill the browsers running on, and delete, the profiles whose robot is dead; returns the folders
    deleted. A profile named without a pid (an older robot's) goes only when no process uses it."""
    reaped = []
    for folder in Path(temp_folder or tempfile.gettempdir()).glob(f"{PROFILE_PREFIX}*"):
        named = PROFILE_NAME.match(folder.name)
        if not named or not folder.is_dir():
            continue
        if named.group(1) is not None:
            if process_alive(int(named.group(1))):
                continue
            # a dying Chromium may still write into the folder: delete it once they are gone
            _wait_gone(kill_left_behind(folder))
        elif processes_on(folder):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            reaped.append(folder)
    if reaped:
        log.warning("deleted %d browser profiles left behind by robots that died mid-run", len(reaped))
    return reaped


def _wait_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + REAP_WAIT_S
    while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(REAP_POLL_S)


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie has ended: it only waits for its parent to notice)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)  # no /proc (not Linux): ask the kernel
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


def processes_on(profile: Path) -> list[int]:
    """Pids of processes whose command line names `profile` as their user data dir (Linux /proc; [] elsewhere)."""
    marker = f"--user-data-dir={profile}\0".encode()  # one whole argument
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
    return found


def die_with_parent() -> None:
    """In the chromedriver child, before exec: the kernel SIGKILLs it when the robot dies (Linux; else nothing).
    The signal comes when the thread that started it ends: a run starts its browser and uses it in one thread."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def kill_left_behind(profile: Path) -> list[int]:
    """SIGKILL browser processes still running on `profile`: a chromedriver that crashed or was killed
    leaves its Chromium behind, which nothing would ever quit. Linux (/proc); a no-op elsewhere."""
    killed = []
    # Chromium's helpers (zygote, network and storage services, renderers) do not name the profile but write
    # into it: the whole tree goes, taken before the browser dies and its children are handed to init.
    on_profile = processes_on(profile)
    for pid in dict.fromkeys(p for top in on_profile for p in (*descendants(top), top)):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:  # gone meanwhile, or not ours
            continue
        killed.append(pid)
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
        service = webdriver.ChromeService(executable_path=chromedriver, popen_kw={"preexec_fn": die_with_parent})
        return webdriver.Chrome(options=options, service=service)
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
