"""robot.session's failure snapshots with a fake browser: once per failure, through the session's policy."""
from __future__ import annotations

import contextlib

import pytest
from selenium.common.exceptions import WebDriverException

from robot.config import load_config
from robot.control import RunControl
from robot.errors import LoginFailed, RunStopped, TableNotFound
from robot.session import BrowserSession, SessionSettings, Site
from tests.robot_fakes import FAKE_PASSWORD, FAKE_USER


@pytest.fixture
def session_of(write_config, fake_driver):
    """session_of(folder) -> a BrowserSession over the fake driver, saving snapshots into `folder`."""
    config = load_config(write_config())

    @contextlib.contextmanager
    def opener(settings):
        yield fake_driver

    def make(folder):
        site = Site("http://fake.test", FAKE_USER, FAKE_PASSWORD, FAKE_USER, (FAKE_PASSWORD,))
        return BrowserSession(SessionSettings.of(config), site, folder, RunControl(), opener)

    return make


@pytest.fixture
def folder(tmp_path):
    """The run folder snapshots go into (beside it: the config)."""
    run = tmp_path / "run"
    run.mkdir()
    return run


def test_an_error_leaving_nested_blocks_is_saved_once_and_redacted(session_of, fake_driver, folder):
    fake_driver.get("http://fake.test/login")
    fake_driver.elements["input[name=password]"].send_keys(FAKE_PASSWORD)
    with pytest.raises(TableNotFound) as info:
        with session_of(folder) as session, session.snapshot_on_failure(), session.snapshot_on_failure():
            raise TableNotFound("gone")
    assert sorted(p.name for p in folder.iterdir()) == ["failure__TableNotFound.html", "failure__TableNotFound.png"]
    assert fake_driver.screenshots_taken == 1
    html = (folder / "failure__TableNotFound.html").read_text()
    assert FAKE_PASSWORD not in html and "***" in html
    assert session.snapshot_name(info.value) == "failure__TableNotFound"  # still known after the session ended


def test_a_snapshot_already_taken_keeps_its_name(session_of, fake_driver, folder):
    exc = TableNotFound("gone")
    with pytest.raises(TableNotFound):
        with session_of(folder) as session, session.snapshot_on_failure():
            assert session.snapshot("roulette__small", exc) == "failure__roulette__small"
            assert session.snapshot("again", exc) == "failure__roulette__small"
            raise exc
    assert session.snapshot_name(exc) == "failure__roulette__small" and fake_driver.screenshots_taken == 1


def test_snapshots_off_without_folder(session_of, fake_driver):
    with pytest.raises(TableNotFound) as info:
        with session_of(None) as session, session.snapshot_on_failure():
            raise TableNotFound("gone")
    assert fake_driver.screenshots_taken == 0 and session.snapshot_name(info.value) is None


def test_a_stop_request_saves_no_snapshot(session_of, fake_driver, folder):
    with pytest.raises(RunStopped):
        with session_of(folder) as session, session.snapshot_on_failure():
            raise RunStopped("stop requested")
    assert fake_driver.screenshots_taken == 0 and not list(folder.iterdir())


def test_a_dead_browser_does_not_hide_the_real_error(session_of, fake_driver, folder, caplog):
    def dead():
        raise WebDriverException("no such window")

    fake_driver.get_screenshot_as_png = dead
    with pytest.raises(LoginFailed, match="refused") as info:
        with session_of(folder) as session, session.snapshot_on_failure():
            raise LoginFailed("refused")
    assert "could not save the page" in caplog.text
    assert not list(folder.iterdir()) and session.snapshot_name(info.value) is None
