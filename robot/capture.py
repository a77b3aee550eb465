"""Stage functions that use the browser: log in, open a page, screenshot one table (with `cells`, and
measure its cells' boxes).

Each takes the driver and the part of the config it needs; waits go through
`robot.browser.waiting.wait_for`/`wait_until`. Credentials are passed in, typed into the form
and never logged or put into a message (the user name appears only as `user_label`).
"""
from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from selenium.common.exceptions import (
    JavascriptException,
    WebDriverException,
)
from selenium.webdriver.common.by import By

from recognizer.table import Box
from robot.browser.driver import Driver, Element, first_line, gone
from robot.browser.frames import describe_frames, inside_frames
from robot.browser.readiness import ScrollBoxes, WindowGrowth, wait_until_seen
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
from robot.errors import (
    CellCountMismatch,
    CellsOutsideScreenshot,
    InvalidSelector,
    LoginFailed,
    PageLoadFailed,
    SessionExpired,
    TableNotFound,
)

log = logging.getLogger(__name__)

# arguments: table element, cells selector, header cells selector or null. Returns [[x, y, w, h], ...] of the
# data cells in device pixels relative to the table element's own box (what its element screenshot shows),
# or an error message for an invalid selector.
CELL_BOXES_JS = r"""
const [e, cells, header] = arguments;
try {
  const t = e.getBoundingClientRect(), k = window.devicePixelRatio || 1;
  const isHeader = c => { if (!header) return false; const h = c.closest(header); return !!h && e.contains(h); };
  return [...e.querySelectorAll(cells)].filter(c => !isHeader(c)).map(c => {
    const r = c.getBoundingClientRect();
    return [(r.left - t.left) * k, (r.top - t.top) * k, r.width * k, r.height * k];
  });
} catch (err) { return String(err.message || err); }
"""

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

    def form_gone() -> bool:
        # The page before the answer may show the success element too (a session already logged in
        # sees its "log out" link on the login page): success counts once the form is gone.
        try:
            return not user_field.is_displayed()
        except WebDriverException:  # stale, "does not belong to the document", or any other: the form is gone
            return True

    def outcome(d: Driver) -> str | bool:
        if present(d, login_cfg.success_selector) and form_gone():
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


@dataclass(frozen=True)
class Capture:
    """One table as captured: its element screenshot, and with `cells` configured its data cells' boxes in
    that screenshot's pixels (in page order; the reader arranges them)."""

    png: bytes
    cell_boxes: tuple[Box, ...] | None = None


def capture(driver: Driver, page: Page, table_spec: TableSpec, *, timeout: float,
            on_missing: Callable[[Driver], None] | None = None) -> Capture:
    """Screenshot one table element of the open page, once a person would see it as it is now
    (`robot.browser.readiness`: in view, visible, loaded, still, uncovered, two identical screenshots);
    with `table_spec.cells`, measure its data cells (`table_cells`) right after, in the same document.
    The element is looked up inside the table's `frame` path; a table expanded from a `name_from` spec is
    the matching element of that name. A table not found or never ready is handed to `on_missing` first,
    while the driver is still in the table's frame (is it the session? `robot.browser.sessioncheck`)."""
    what = f"table {page.name}/{table_spec.name}"
    with inside_frames(driver, table_spec.frame, timeout, what, hint=_hint(page, table_spec, "frame"), shown=True), \
            WindowGrowth(driver) as growth, ScrollBoxes(driver) as boxes:
        try:
            # A table larger than the window: the window grows (not for a frame, whose size the page sets).
            # One in a scroll box: the box opens up until the screenshot and the cells' boxes are taken.
            refind, png = _seen(driver, page, table_spec, timeout, what, None if table_spec.frame else growth, boxes)
        except TableNotFound:
            if on_missing is not None:
                on_missing(driver)
            raise
        if table_spec.cells is None:
            return Capture(png)
        return Capture(png, table_cells(driver, refind, page, table_spec, png))


def capture_table(driver: Driver, page: Page, table_spec: TableSpec, *, timeout: float,
                  on_missing: Callable[[Driver], None] | None = None) -> bytes:
    """`capture`'s screenshot (PNG bytes) alone."""
    return capture(driver, page, table_spec, timeout=timeout, on_missing=on_missing).png


def _seen(driver: Driver, page: Page, table_spec: TableSpec, timeout: float, what: str,
          grow: WindowGrowth | None, show_whole: ScrollBoxes) -> tuple[Callable[[], Element | None], bytes]:
    """(how to find the table's element now, its screenshot once ready)."""
    hint = _hint(page, table_spec, "selector")
    if table_spec.member is None:
        element = wait_for(driver, table_spec.selector, timeout, what, error=TableNotFound, hint=hint)
        png = wait_until_seen(driver, element, table_spec.selector, timeout, what, grow=grow, show_whole=show_whole)
        # Readiness may have found it anew: the element now is the first match.
        return lambda: next(iter(driver.find_elements(By.CSS_SELECTOR, table_spec.selector)), None), png

    def named(d: Driver) -> Element | None:
        return dict(_members(d, page, table_spec)).get(table_spec.member)

    element = wait_until(driver, named, timeout=timeout, error=TableNotFound, hint=hint,
                         what=f"{what} (the element of {table_spec.selector!r} whose {table_spec.name_from} "
                              f"gives {table_spec.member!r})")
    png = wait_until_seen(driver, element, table_spec.selector, timeout, what, refind=lambda: named(driver), grow=grow,
                          show_whole=show_whole)
    return lambda: named(driver), png


def table_cells(driver: Driver, element_of: Callable[[], Element | None], page: Page, table_spec: TableSpec,
                png: bytes) -> tuple[Box, ...]:
    """The boxes of the table's data cells (header cells left out) in its screenshot `png`, checked: as many
    as rows x cols, and all inside the screenshot (else `CellBoxesRefused`, carrying `png`)."""
    what = f"table {page.name}/{table_spec.name}"
    for last_try in (False, True):  # the element may be replaced right after its screenshot: look once more
        element = element_of()
        if element is None:
            raise TableNotFound(f"{what} left the page right after its screenshot ({table_spec.selector!r})")
        try:
            boxes = cell_boxes(driver, element, table_spec, what)
            break
        except WebDriverException as exc:
            if not gone(exc):
                raise
            if last_try:
                raise TableNotFound(f"{what} kept being replaced on the page ({table_spec.selector!r})") from None
    expected = (table_spec.rows or 0) * (table_spec.cols or 0)
    if len(boxes) != expected:
        raise CellCountMismatch(
            f"{what}: {len(boxes)} data cells match cells {table_spec.cells!r}"
            + (f" (header_cells {table_spec.header_cells!r} left out)" if table_spec.header_cells else "")
            + f", expected rows x cols = {table_spec.rows}x{table_spec.cols} = {expected}: check "
            f"pages[{page.name}].tables[{table_spec.name}].rows/cols/cells/header_cells in config.yaml", png=png)
    width, height = png_size(png)
    if any(b.x + b.w > width + 1 or b.y + b.h > height + 1 for b in boxes):  # 1: rounding of fractional boxes
        right, bottom = max(b.x + b.w for b in boxes), max(b.y + b.h for b in boxes)
        raise CellsOutsideScreenshot(
            f"{what}'s cells reach {right}x{bottom} device px, its screenshot shows {width}x{height}: the browser "
            "window cuts the table; raise browser.window_width/window_height, or select an element that holds all "
            "its cells", png=png)
    return boxes


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    return struct.unpack(">II", png[16:24])


def cell_boxes(driver: Driver, element: Element, table_spec: TableSpec, what: str) -> tuple[Box, ...]:
    """The data cells' boxes (`CELL_BOXES_JS`), rounded to whole device pixels."""
    try:
        found = driver.execute_script(CELL_BOXES_JS, element, table_spec.cells, table_spec.header_cells)
    except JavascriptException as exc:
        raise TableNotFound(f"the cells of {what} could not be measured in the page ({first_line(exc)})") from None
    if isinstance(found, str):
        raise InvalidSelector(f"{what}: cells {table_spec.cells!r} or header_cells {table_spec.header_cells!r} is "
                              f"not a valid CSS selector ({found}): fix it in config.yaml")
    boxes = []
    for x, y, w, h in found:
        x0, y0 = round(x), round(y)
        boxes.append(Box(x0, y0, max(round(x + w) - x0, 0), max(round(y + h) - y0, 0)))
    return tuple(boxes)


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
