"""What an unattended robot needs, checked one by one, each failure with what to fix (`robot doctor`).

Checks, in order: the config loads; the schedule is valid; the login's environment variables
are set (names only: values are never printed); chromium and chromedriver are there with the
same major version (or the remote WebDriver answers); the model loads; the output folder is
writable; whether a robot holds the output folder now. Exit 0 when all pass.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from recognizer.settings import ModelSettings
from robot.config import (
    AppConfig,
    Browser,
    Login,
    Output,
    Target,
    TargetKind,
    load_config,
)
from tablebot.errors import TableBotError

log = logging.getLogger(__name__)

VERSION_TIMEOUT_S = 30.0  # `chromium --version` may be slow on a cold start
STATUS_TIMEOUT_S = 10.0  # the remote WebDriver's /status
VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)\.(\d+)")
WRITE_PROBE = ".doctor-write-test"
BYTES_PER_MIB = 1024 * 1024


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        head = f"{'ok' if self.ok else 'FAIL':<5} {self.name:<12} {self.detail}"
        return [head] + ([f"{'':<5} {'':<12} fix: {self.fix}"] if self.fix and not self.ok else [])


# ---------------------------------------------------------------------------- the checks

def check_config(path: Path) -> tuple[Check, AppConfig | None]:
    try:
        config = load_config(path)
    except TableBotError as exc:
        return Check("config", False, str(exc), "correct the file (see the comments in config.yaml)"), None
    tables = sum(len(p.tables) for p in config.pages)
    groups = sum(t.is_group for p in config.pages for t in p.tables)
    many = f" ({groups} of them name_from: one table per matching element)" if groups else ""
    return Check("config", True, f"{path}: target {config.target.kind.value}, {len(config.pages)} pages, "
                                 f"{tables} tables{many}"), config


def check_schedule(config: AppConfig) -> Check:
    from robot.schedule import build_trigger, describe_schedule, misfire_grace_s

    try:
        trigger = build_trigger(config.schedule)
    except TableBotError as exc:
        return Check("schedule", False, str(exc), "fix schedule.cron or schedule.interval_minutes")
    return Check("schedule", True, f"{describe_schedule(config.schedule)}, misfire grace "
                                   f"{misfire_grace_s(config.schedule, trigger)} s, time limit "
                                   f"{config.schedule.run_time_limit_s:g} s per run")


def check_credentials(target: Target, login: Login) -> Check:
    names = f"{login.username_env}/{login.password_env}"
    missing = [n for n in (login.username_env, login.password_env) if not os.environ.get(n)]
    if target.kind is TargetKind.DEMO:
        how = "set" if not missing else "unset: the demo site gets a one-off login"
        return Check("credentials", True, f"{names} {how} (demo target)")
    if missing:
        return Check("credentials", False, f"{', '.join(missing)} not set",
                     f"export {' and '.join(missing)} with the site's login (the config names the variables, "
                     "never the values)")
    return Check("credentials", True, f"{names} are set")


def tool_version(binary: str) -> str:
    """`binary --version`, first line of its stdout."""
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S)
    return (done.stdout.strip().splitlines() or [""])[0]


def major(version_text: str) -> int | None:
    found = VERSION.search(version_text)
    return int(found.group(1)) if found else None


def check_browser(settings: Browser) -> Check:
    if settings.remote_url:
        return check_remote(settings.remote_url)
    from robot.browser.manage import find_chromedriver, find_chromium

    try:
        chromium, chromedriver = find_chromium(settings), find_chromedriver(settings)
        texts = {}
        for name, binary in (("chromium", chromium), ("chromedriver", chromedriver)):
            try:
                texts[name] = tool_version(binary)
            except (OSError, subprocess.SubprocessError) as exc:
                return Check("browser", False, f"`{binary} --version` failed: {exc}",
                             "reinstall it (apt-get install --reinstall chromium chromium-driver)")
    except TableBotError as exc:
        return Check("browser", False, str(exc), "install chromium and chromedriver, or set browser.remote_url")
    versions = {name: major(text) for name, text in texts.items()}
    if None in versions.values():
        return Check("browser", False, f"cannot read the versions: {texts}",
                     "check that browser.chromium_path and browser.chromedriver_path point at the right programs")
    if versions["chromium"] != versions["chromedriver"]:
        return Check("browser", False,
                     f"chromium {versions['chromium']} ({chromium}) and chromedriver {versions['chromedriver']} "
                     f"({chromedriver}) differ",
                     "install matching versions (apt-get install chromium chromium-driver) or point "
                     "browser.chromedriver_path at a driver for this chromium")
    return Check("browser", True, f"chromium and chromedriver {versions['chromium']} ({chromium}, {chromedriver})")


def check_remote(remote_url: str) -> Check:
    url = remote_url.rstrip("/") + "/status"
    try:
        with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT_S) as response:
            status = json.loads(response.read().decode("utf-8") or "{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Check("browser", False, f"the remote WebDriver at {remote_url} does not answer ({exc})",
                     "start the Selenium server / Grid, or fix browser.remote_url")
    ready = (status.get("value") or {}).get("ready")
    if ready is False:
        message = (status.get("value") or {}).get("message", "")
        return Check("browser", False, f"the remote WebDriver at {remote_url} is not ready: {message}",
                     "wait for a free browser slot on the Grid, or add nodes")
    return Check("browser", True, f"remote WebDriver at {remote_url} is ready")


def check_model(config: AppConfig, load_reader: Callable[[ModelSettings], object]) -> Check:
    try:
        reader = load_reader(config.model)
    except TableBotError as exc:
        return Check("model", False, str(exc), "train or copy a model there, or fix model.path")
    second = " with its second opinion" if getattr(reader, "second", None) is not None else ""
    return Check("model", True, f"{config.model.path} loads{second}")


def check_output(output: Output) -> Check:
    from tablebot.files import atomic_open

    probe = output.folder / WRITE_PROBE
    try:
        with atomic_open(probe, "w") as stream:
            stream.write("tablebot doctor\n")
    except TableBotError as exc:
        return Check("output", False, str(exc), f"make {output.folder} writable for this user, or change output.folder")
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    free = shutil.disk_usage(output.folder).free // BYTES_PER_MIB
    return Check("output", True, f"{output.folder} is writable, {free} MiB free")


def check_lock(output: Output) -> Check:
    from robot.lock import current_holder

    holder = current_holder(output.folder)
    if holder is None:
        return Check("lock", True, "no robot is using the output folder now")
    return Check("lock", True, f"the output folder is in use by {holder.describe()} (fine while `robot run` runs)")


def run_checks(config_path: Path, load_reader: Callable[[ModelSettings], object]) -> list[Check]:
    """Every check, in order; `load_reader` is how a run loads the model (`robot.run.RunParts`)."""
    first, config = check_config(config_path)
    if config is None:
        return [first]
    return [
        first,
        check_schedule(config),
        check_credentials(config.target, config.login),
        check_browser(config.browser),
        check_model(config, load_reader),
        check_output(config.output),
        check_lock(config.output),
    ]
