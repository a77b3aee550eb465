"""robot.browser's modules with fakes: options, driver lookup, start errors, the wait helper, snapshots,
the run-on-failure policy, redaction."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException

from robot.browser import manage
from robot.browser.driver import browser_errors
from robot.browser.manage import chrome_options, find_chromedriver, start_error
from robot.browser.redaction import secrets_hidden_from_logs
from robot.browser.runonfailure import RunOnFailure
from robot.browser.snapshots import PageSnapshots
from robot.browser.waiting import navigate, page_url, wait_for
from robot.config import Browser
from robot.errors import BrowserError, LoginFailed, SiteUnreachable, TableNotFound
from tablebot.errors import ExitCode
from tests.robot_fakes import FAKE_PASSWORD

SHORT = 0.3  # seconds: waits that are meant to time out


def test_chrome_options_have_headless_flags_fresh_profile_and_extra_args_last(tmp_path):
    settings = Browser(window_width=800, window_height=600, device_scale_factor=2.0, extra_args=["--lang=de"])
    args = chrome_options(settings, tmp_path, "/usr/bin/chromium").arguments
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        assert flag in args
    assert "--window-size=800,600" in args
    assert "--force-device-scale-factor=2" in args
    assert f"--user-data-dir={tmp_path}" in args
    assert args[-1] == "--lang=de"


def test_remote_options_get_no_local_profile():
    args = chrome_options(Browser(remote_url="http://127.0.0.1:4444"), None).arguments
    assert not any(a.startswith("--user-data-dir") for a in args)


def test_missing_chromedriver_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(manage.shutil, "which", lambda name: None)
    with pytest.raises(BrowserError, match="apt-get install chromium-driver.*browser.chromedriver_path") as info:
        find_chromedriver(Browser())
    assert info.value.exit_code == ExitCode.BROWSER


def test_configured_chromedriver_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(BrowserError, match="browser.chromedriver_path .*nope.* does not exist"):
        find_chromedriver(Browser(chromedriver_path=tmp_path / "nope"))


def test_configured_chromedriver_wins_over_path(tmp_path, monkeypatch):
    driver = tmp_path / "chromedriver"
    driver.write_text("")
    monkeypatch.setattr(manage.shutil, "which", lambda name: "/elsewhere/chromedriver")
    assert find_chromedriver(Browser(chromedriver_path=driver)) == str(driver)


def test_version_mismatch_names_both_versions():
    exc = WebDriverException(
        "session not created: This version of ChromeDriver only supports Chrome version 120\n"
        "Current browser version is 121.0.6167.85 with binary path /usr/bin/chromium"
    )
    err = start_error(exc, "/usr/bin/chromium", "/usr/bin/chromedriver")
    assert "chromedriver 120 does not match chromium 121.0.6167.85" in str(err)
    assert "apt-get install chromium chromium-driver" in str(err)


def test_other_start_failures_are_one_line():
    err = start_error(WebDriverException("unknown error: DevToolsActivePort file doesn't exist\nstack"), "/c", "/d")
    assert "chromium (/c) failed to start" in str(err) and "\n" not in str(err)


def test_page_url_keeps_the_base_path():
    assert page_url("https://example.org/app/", "/tables/x") == "https://example.org/app/tables/x"
    assert page_url("http://127.0.0.1:5000", "login") == "http://127.0.0.1:5000/login"


def test_connection_refused_is_site_unreachable(fake_driver):
    fake_driver.site.unreachable = True
    with pytest.raises(SiteUnreachable, match=r"cannot reach http://fake.test/login \(ERR_CONNECTION_REFUSED\)") as info:
        navigate(fake_driver, "http://fake.test/login")
    assert info.value.exit_code == ExitCode.TARGET


def test_wait_for_returns_the_element(fake_driver):
    fake_driver.get("http://fake.test/login")
    assert wait_for(fake_driver, "input[name=username]", SHORT, "the user field") is fake_driver.elements["input[name=username]"]


@pytest.mark.parametrize("error", [TableNotFound, LoginFailed])
def test_wait_for_timeout_names_selector_page_and_hint(fake_driver, error):
    fake_driver.get("http://fake.test/login")
    with pytest.raises(error) as info:
        wait_for(fake_driver, "#nothing", SHORT, "the thing", error=error, hint="check things")
    message = str(info.value)
    assert "'#nothing'" in message and "http://fake.test/login" in message and "check things" in message
    assert "timed out after 0.3 s" in message


def test_browser_errors_translates_selenium_exceptions():
    with pytest.raises(BrowserError, match="^the browser failed: chrome not reachable; rerun with --verbose"):
        with browser_errors():
            raise WebDriverException("chrome not reachable\n  (Session info: chrome=121)")


def test_page_snapshot_is_saved_and_redacted(fake_driver, tmp_path):
    fake_driver.get("http://fake.test/login")
    fake_driver.elements["input[name=password]"].send_keys(FAKE_PASSWORD)
    assert PageSnapshots(fake_driver, tmp_path, [FAKE_PASSWORD]).save("login") == "failure__login"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failure__login.html", "failure__login.png"]
    assert (tmp_path / "failure__login.png").read_bytes() == fake_driver.get_screenshot_as_png()
    html = (tmp_path / "failure__login.html").read_text()
    assert FAKE_PASSWORD not in html and "***" in html


def test_a_dead_browser_saves_nothing_and_says_so(fake_driver, tmp_path, caplog):
    def dead():
        raise WebDriverException("no such window")

    fake_driver.get_screenshot_as_png = dead
    assert PageSnapshots(fake_driver, tmp_path).save("LoginFailed") is None
    assert "could not save the page at the failure: no such window" in caplog.text
    assert not list(tmp_path.iterdir())


class Recorder:
    """A run-on-failure action that records its labels and "saves" as `failure__<label>` (or fails: None)."""

    def __init__(self, saves: bool = True):
        self.saves, self.labels = saves, []

    def __call__(self, label: str) -> str | None:
        self.labels.append(label)
        return f"failure__{label}" if self.saves else None


def test_run_on_failure_runs_once_per_failure_and_returns_the_same_name():
    action = Recorder()
    policy = RunOnFailure(action)
    exc = TableNotFound("gone")
    assert policy.run("inner", exc) == "failure__inner"
    assert policy.run("outer", exc) == "failure__inner"
    assert policy.result(exc) == "failure__inner" and action.labels == ["inner"]
    other = TableNotFound("gone")  # equal text, another failure
    assert policy.run("other", other) == "failure__other" and action.labels == ["inner", "other"]
    assert policy.result(TableNotFound("never handled")) is None


def test_run_on_failure_remembers_a_failed_save_and_does_not_try_again():
    action = Recorder(saves=False)
    policy = RunOnFailure(action)
    exc = LoginFailed("refused")
    assert policy.run("LoginFailed", exc) is None
    assert policy.run("LoginFailed", exc) is None and action.labels == ["LoginFailed"]


def test_run_on_failure_with_a_dead_browser_returns_none_and_does_not_raise(fake_driver, tmp_path):
    def dead():
        raise WebDriverException("no such window")

    fake_driver.get_screenshot_as_png = dead
    policy = RunOnFailure(PageSnapshots(fake_driver, tmp_path).save)
    exc = LoginFailed("refused")
    assert policy.run("LoginFailed", exc) is None and policy.result(exc) is None
    assert not list(tmp_path.iterdir())


def test_run_on_failure_saves_the_page_once_per_failure(fake_driver, tmp_path):
    policy = RunOnFailure(PageSnapshots(fake_driver, tmp_path).save)
    exc = TableNotFound("gone")
    assert policy.run("inner", exc) == policy.run("outer", exc) == "failure__inner"
    assert fake_driver.screenshots_taken == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failure__inner.html", "failure__inner.png"]


def test_run_on_failure_without_an_action_runs_nothing():
    policy = RunOnFailure()
    exc = TableNotFound("gone")
    assert policy.run("x", exc) is None
    later = Recorder()
    assert policy.register(later) is None
    assert policy.run("x", exc) == "failure__x" and policy.register(None) is later


def test_secrets_are_redacted_from_log_records(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="selenium")  # a CLI test may have quietened it
    selenium_log = logging.getLogger("selenium.webdriver.remote.remote_connection")
    with secrets_hidden_from_logs([FAKE_PASSWORD]):
        selenium_log.debug("POST %s %s", "/session/x/element/y/value", f'{{"text": "{FAKE_PASSWORD}"}}')
        logging.getLogger("tablebot.test").info("typed %s", FAKE_PASSWORD)
    selenium_log.debug("after: %s", "plain")
    assert FAKE_PASSWORD not in caplog.text
    assert caplog.text.count("***") == 2 and "after: plain" in caplog.text


def test_open_browser_quits_and_removes_its_profile(monkeypatch):
    class Stub:
        def __init__(self):
            self.quit_called = False
            self.timeout = None

        def set_page_load_timeout(self, t):
            self.timeout = t

        def quit(self):
            self.quit_called = True

    stub, profiles = Stub(), []

    def fake_start(settings, profile):
        profiles.append(profile)
        assert profile.is_dir()
        return stub

    monkeypatch.setattr(manage, "_start", fake_start)
    with pytest.raises(TableNotFound):
        with manage.open_browser(Browser(page_load_timeout_s=12)) as driver:
            assert driver is stub and stub.timeout == 12
            raise TableNotFound("boom")
    assert stub.quit_called and not Path(profiles[0]).exists()


def test_a_driver_that_exits_at_once_is_named():
    err = start_error(WebDriverException("Service /bin/false unexpectedly exited. Status code was: 1"), "/c", "/bin/false")
    assert str(err).startswith("chromedriver (/bin/false) exited at once")
