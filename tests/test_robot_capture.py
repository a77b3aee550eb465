"""robot.capture against the fake browser: login paths, page opening, table screenshots."""
from __future__ import annotations

import pytest

from robot.capture import capture_table, login, open_page
from robot.config import Login, Page, TableSpec
from robot.errors import LoginFailed, SiteUnreachable, TableNotFound
from tablebot.errors import ExitCode
from tests.robot_fakes import FAKE_PASSWORD, FAKE_USER, FakeElement

BASE = "http://fake.test"
SHORT = 0.3
LIGHT = Page(name="light", path="/tables/light", tables=[TableSpec(name="main", selector="#table-main", rows=8, cols=15)])


def test_login_fills_the_form_and_waits_for_success(fake_driver):
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    assert fake_driver.logged_in
    assert fake_driver.visited == [f"{BASE}/login"]


def test_refused_login_names_the_env_vars_never_the_user_or_password(fake_driver):
    with pytest.raises(LoginFailed) as info:
        login(fake_driver, BASE, Login(username_env="SITE_USER", password_env="SITE_PW"), FAKE_USER, "wrong-" + FAKE_PASSWORD,
              timeout=SHORT)
    message = str(info.value)
    assert message == "the site refused the login for the user in $SITE_USER; check SITE_USER/SITE_PW"
    assert FAKE_PASSWORD not in message and FAKE_USER not in message
    assert info.value.exit_code == ExitCode.LOGIN


def test_refused_login_can_hide_a_generated_user(fake_driver):
    with pytest.raises(LoginFailed) as info:
        login(fake_driver, BASE, Login(), "generated-user-xyz", "nope", timeout=SHORT, user_label="the one-off demo user")
    assert "generated-user-xyz" not in str(info.value) and "the one-off demo user" in str(info.value)


def test_no_answer_to_the_login_times_out_as_login_failed(fake_driver):
    fake_driver.site.answer_login = False
    with pytest.raises(LoginFailed, match=r"timed out .* the site's answer to the login \('#logout' or '.login-error'\)"):
        login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)


def test_missing_login_form_names_the_selector(fake_driver):
    fake_driver.site.login_form = False
    with pytest.raises(LoginFailed, match=r"user name field \(selector 'input\[name=username\]'\) on http://fake.test/login"):
        login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)


def test_unreachable_site_at_login(fake_driver):
    fake_driver.site.unreachable = True
    with pytest.raises(SiteUnreachable, match="cannot reach http://fake.test/login"):
        login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)


def test_capture_scrolls_waits_and_returns_the_element_png(fake_driver):
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    open_page(fake_driver, BASE, LIGHT, Login())
    element = fake_driver.site.tables["/tables/light"]["#table-main"]
    png = capture_table(fake_driver, LIGHT, LIGHT.tables[0], timeout=SHORT)
    assert png == element.png and png.startswith(b"\x89PNG")
    assert element.scrolled


def test_missing_selector_is_table_not_found(fake_driver):
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    open_page(fake_driver, BASE, LIGHT, Login())
    spec = TableSpec(name="other", selector="#table-other", rows=8, cols=15)
    with pytest.raises(TableNotFound) as info:
        capture_table(fake_driver, LIGHT, spec, timeout=SHORT)
    message = str(info.value)
    assert "table light/other (selector '#table-other')" in message
    assert "http://fake.test/tables/light" in message and "pages[light].tables[other].selector" in message
    assert info.value.exit_code == ExitCode.TARGET


def test_image_that_never_loads_is_table_not_found(fake_driver):
    fake_driver.site.tables["/tables/light"]["#table-main"].loaded = False
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    open_page(fake_driver, BASE, LIGHT, Login())
    with pytest.raises(TableNotFound, match="table light/main's image has not finished loading.*after 0.3 s.*browser.wait_timeout_s"):
        capture_table(fake_driver, LIGHT, LIGHT.tables[0], timeout=SHORT)


def test_empty_screenshot_is_table_not_found(fake_driver):
    fake_driver.site.tables["/tables/light"]["#table-main"].png = b""
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    open_page(fake_driver, BASE, LIGHT, Login())
    with pytest.raises(TableNotFound, match="came back empty"):
        capture_table(fake_driver, LIGHT, LIGHT.tables[0], timeout=SHORT)


def test_lost_session_is_reported_when_a_page_leads_back_to_login(fake_driver):
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    fake_driver.site.expired = True
    with pytest.raises(LoginFailed, match="opening http://fake.test/tables/light led back to the login page"):
        open_page(fake_driver, BASE, LIGHT, Login())


def test_a_session_already_logged_in_waits_for_the_answer_not_its_own_log_out_link(fake_driver):
    """The login page of a session already logged in shows the "log out" link too: success counts
    only once the form is gone, or the answer, still on its way, would land on the next page opened
    (seen in Chromium: a table page replaced by the login's redirect to the overview)."""
    fake_driver.logged_in = True
    show_login, find_elements = fake_driver._show_login, fake_driver.find_elements
    polls = []

    def login_page_with_log_out(error: bool) -> None:
        show_login(error)
        fake_driver.elements = {**fake_driver.elements, "#logout": FakeElement()}
        submit = fake_driver.elements["button[type=submit]"]
        answer, submit.on_click = submit.on_click, lambda: polls.append(answer)

    def slow_answer(by, value):  # the site answers the form three looks after the click
        if polls and len(polls) < 4:
            polls.append(None)
            if len(polls) == 4:
                polls[0]()
        return find_elements(by, value)

    fake_driver._show_login, fake_driver.find_elements = login_page_with_log_out, slow_answer
    login(fake_driver, BASE, Login(), FAKE_USER, FAKE_PASSWORD, timeout=SHORT)
    assert fake_driver.current_url == f"{BASE}/"  # returned once the answer was in, not before
