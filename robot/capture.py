"""Stage functions that use the browser: log in, open a page, screenshot one table.

Each takes the driver and the part of the config it needs; waits go through
`robot.browser.waiting.wait_for`/`wait_until`. Credentials are passed in, typed into the form
and never logged or put into a message (the user name appears only as `user_label`).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By

from robot.browser.driver import Driver, Element
from robot.browser.frames import describe_frames, inside_frames
from robot.browser.readiness import wait_until_seen
from robot.browser.waiting import (
    SERVER_ERROR_MIN,
    current_url,
    http_status,
    navigate,
    page_url,
    present,
    wait_for,
    wait_until,
)
from robot.config import NAME_CHARS, Login, NameFrom, Page, TableSpec
from robot.errors import LoginFailed, PageLoadFailed, SessionExpired, TableNotFound

log = logging.getLogger(__name__)

_LOGIN_FORM_HINT = "check login.path and the login.*_selector settings in config.yaml"
MAX_MEMBER_CHARS = 64  # longest derived part of a name_from table's name
_NOT_NAME_CHARS = re.compile(f"[^{NAME_CHARS}]+")
# arguments: the matching elements, how to name them (NameFrom or an attribute name). Their raw names, in order.
RAW_NAMES_JS = """
const [elements, how] = arguments;
return elements.map((e, i) => how === 'index' ? String(i + 1)
  : how === 'text' ? (e.textContent || '').trim() : (e.getAttribute(how) || '').trim());
"""


def login(
    driver: Driver,
    base_url: str,
    login_cfg: Login,
    username: str,
    password: str,
    *,
    timeout: float,
    user_label: str | None = None,
) -> None:
    """Fill and submit the login form, then wait for the success or the error element.

    `user_label` names the user in messages (default: the user in `$<login.username_env>`): the user
    name itself is never put into a message, since messages go into run.json and the ledger.
    """
    url = page_url(base_url, login_cfg.path)
    navigate(driver, url)
    user_field = wait_for(driver, login_cfg.username_selector, timeout, "the login form's user name field",
                          error=LoginFailed, hint=_LOGIN_FORM_HINT)
    password_field = wait_for(driver, login_cfg.password_selector, timeout, "the login form's password field",
                              error=LoginFailed, hint=_LOGIN_FORM_HINT)
    user_field.clear()
    user_field.send_keys(username)
    password_field.clear()
    password_field.send_keys(password)
    wait_for(driver, login_cfg.submit_selector, timeout, "the login form's submit button",
             error=LoginFailed, hint=_LOGIN_FORM_HINT).click()

    def outcome(d: Driver) -> str | bool:
        if present(d, login_cfg.success_selector):
            return "accepted"
        if present(d, login_cfg.error_selector):
            return "refused"
        status = http_status(d)
        if status is not None and status >= SERVER_ERROR_MIN:
            return f"HTTP {status}"
        return False

    result = wait_until(
        driver, outcome, timeout=timeout,
        what=f"the site's answer to the login ({login_cfg.success_selector!r} or {login_cfg.error_selector!r})",
        error=LoginFailed, hint="check login.success_selector and login.error_selector in config.yaml",
    )
    if result.startswith("HTTP"):
        raise PageLoadFailed(f"the site answered the login with {result}: it has trouble; the robot retries with backoff")
    if result == "refused":
        raise LoginFailed(
            f"the site refused the login for {user_label or f'the user in ${login_cfg.username_env}'}; "
            f"check {login_cfg.username_env}/{login_cfg.password_env}"
        )
    log.info("logged in at %s", url)


def open_page(driver: Driver, base_url: str, page: Page, login_cfg: Login) -> None:
    """Open a table page; being sent back to the login page means the session is gone."""
    url = page_url(base_url, page.path)
    navigate(driver, url)
    landed = urlsplit(current_url(driver)).path.rstrip("/")
    login_path = urlsplit(page_url(base_url, login_cfg.path)).path.rstrip("/")
    if landed == login_path and urlsplit(url).path.rstrip("/") != login_path:
        raise SessionExpired(f"opening {url} led back to the login page: the session expired or the login did not stick")
    log.debug("opened page %s at %s", page.name, url)


def capture_table(driver: Driver, page: Page, table_spec: TableSpec, *, timeout: float,
                  on_missing: Callable[[Driver], None] | None = None) -> bytes:
    """Screenshot one table element of the open page as PNG bytes, once a person would see it as it is now
    (`robot.browser.readiness`: in view, visible, loaded, still, uncovered, two identical screenshots).
    The element is looked up inside the table's `frame` path; a table expanded from a `name_from` spec is
    the matching element of that name. A table not found or never ready is handed to `on_missing` first,
    while the driver is still in the table's frame (is it the session? `robot.browser.sessioncheck`)."""
    what = f"table {page.name}/{table_spec.name}"
    with inside_frames(driver, table_spec.frame, timeout, what, hint=_hint(page, table_spec, "frame"), shown=True):
        try:
            return _capture(driver, page, table_spec, timeout, what)
        except TableNotFound:
            if on_missing is not None:
                on_missing(driver)
            raise


def _capture(driver: Driver, page: Page, table_spec: TableSpec, timeout: float, what: str) -> bytes:
    hint = _hint(page, table_spec, "selector")
    if table_spec.member is None:
        element = wait_for(driver, table_spec.selector, timeout, what, error=TableNotFound, hint=hint)
        return wait_until_seen(driver, element, table_spec.selector, timeout, what)

    def named(d: Driver) -> Element | None:
        return dict(_members(d, page, table_spec)).get(table_spec.member)

    element = wait_until(driver, named, timeout=timeout, error=TableNotFound, hint=hint,
                         what=f"{what} (the element of {table_spec.selector!r} whose {table_spec.name_from} "
                              f"gives {table_spec.member!r})")
    return wait_until_seen(driver, element, table_spec.selector, timeout, what, refind=lambda: named(driver))


def group_members(driver: Driver, page: Page, spec: TableSpec, *, timeout: float) -> list[TableSpec]:
    """The tables of a `name_from` spec on the open page, one per matching element in document order, once
    at least `min_count` (default 1) elements match; fewer after `timeout`: `TableNotFound`."""
    what = f"table {page.name}/{spec.name}"
    least = spec.min_count or 1
    hint = _hint(page, spec, "selector")
    with inside_frames(driver, spec.frame, timeout, what, hint=_hint(page, spec, "frame")):
        try:
            found = wait_until(driver, lambda d: (m := _members(d, page, spec)) and len(m) >= least and m,
                               timeout=timeout, error=TableNotFound, hint=hint,
                               what=f"at least {least} element(s) of {what} (selector {spec.selector!r})")
        except TableNotFound:
            some = len(driver.find_elements(By.CSS_SELECTOR, spec.selector))
            if not some:
                raise
            raise TableNotFound(f"only {some} element(s) match {spec.selector!r} for {what}, fewer than its "
                                f"min_count {least} (waited {timeout:g} s); {hint}, or lower min_count") from None
    return [spec.expanded(member) for member, _ in found]


def member_names(raw: Iterable[str], group: str, taken: Iterable[str] = ()) -> list[str]:
    """The derived parts of a `name_from` spec's table names, from the elements' raw names in document order:
    characters outside [A-Za-z0-9_.-] become `_`; an empty name becomes the element's position (from 1);
    a name already used (by an earlier element, or a configured table's `<group>-<name>` in `taken`) gets
    `-2`, `-3`, ... So names stay the same from run to run as long as the page names its elements the same."""
    used, names = set(taken), []
    for position, text in enumerate(raw, start=1):
        base = _NOT_NAME_CHARS.sub("_", text).strip("_")[:MAX_MEMBER_CHARS] or str(position)
        name, suffix = base, 2
        while f"{group}-{name}" in used:
            name, suffix = f"{base}-{suffix}", suffix + 1
        used.add(f"{group}-{name}")
        names.append(name)
    return names


def _members(driver: Driver, page: Page, spec: TableSpec) -> list[tuple[str, Element]]:
    """(derived name, element) of each element matching the spec's selector in the current document."""
    elements = driver.find_elements(By.CSS_SELECTOR, spec.selector)
    if not elements:
        return []
    how = spec.name_from or NameFrom.INDEX.value
    raw = [str(r) for r in driver.execute_script(RAW_NAMES_JS, elements, how)]
    taken = [t.name for t in page.tables if t.name != spec.name]
    return list(zip(member_names(raw, spec.name, taken), elements))


def _hint(page: Page, spec: TableSpec, key: str) -> str:
    group = spec.name.removesuffix(f"-{spec.member}") if spec.member is not None else spec.name
    where = f"check pages[{page.name}].tables[{group}].{key} in config.yaml"
    if key == "frame":
        where += f" ({describe_frames(spec.frame)}; one <iframe> selector per level, outermost first)"
    return where
