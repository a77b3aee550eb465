"""Fakes for the robot's unit tests: a browser (driver + site) and a table reader.

They implement the same small interfaces as the real things (`robot.browser.driver.Driver`,
`recognizer.predictor.TableReader.read`), so robot code runs unchanged against them.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable
from urllib.parse import urlsplit

import numpy as np
from selenium.common.exceptions import WebDriverException

from recognizer.errors import SegmentationError
from recognizer.imageio import encode_png
from recognizer.table import Box, Cell, Table


def grid_png(rows: int, cols: int, cell_w: int = 30, cell_h: int = 20) -> bytes:
    """A plain ruled grid as PNG bytes: what a fake table element screenshots to."""
    image = np.full((rows * cell_h + 1, cols * cell_w + 1, 3), 255, np.uint8)
    for r in range(rows + 1):
        image[r * cell_h, :] = 0
    for c in range(cols + 1):
        image[:, c * cell_w] = 0
    return encode_png(image)


def pattern_value(row: int, col: int, cols: int) -> int:
    return (row * cols + col) % 37


class FakeReader:
    """Reads any image as an evenly divided grid of the expected shape.

    Values come from `values(page, table)` when given (a grid, None = empty), else `pattern_value`;
    cells in `flag` ((page, table, row, col)) get needs_review; tables in `unreadable` raise
    SegmentationError like the real reader does for an image it cannot split.
    """

    def __init__(self, values: Callable[[str, str], list[list[int | None]]] | None = None,
                 flag: set[tuple[str, str, int, int]] = frozenset(), unreadable: set[str] = frozenset()):
        self.values, self.flag, self.unreadable = values, set(flag), set(unreadable)
        self.calls: list[str] = []

    def read(self, image: np.ndarray, shape=None, source: str = "") -> Table:
        self.calls.append(source)
        stem = source.rsplit("/", 1)[-1]
        if stem in self.unreadable:
            raise SegmentationError(f"{source}: no grid of {shape.rows}x{shape.cols} cells found")
        page, table = stem.split("__")
        rows, cols = shape.rows, shape.cols
        h, w = image.shape[:2]
        grid = self.values(page, table) if self.values else None
        cells = []
        for r in range(rows):
            for c in range(cols):
                value = grid[r][c] if grid else pattern_value(r, c, cols)
                flagged = (page, table, r, c) in self.flag
                box = Box(c * w // cols, r * h // rows, w // cols, h // rows)
                cells.append(Cell(r, c, value, 0.5 if flagged else (1.0 if value is None else 0.99), box, flagged))
        return Table(rows, cols, tuple(cells), source=source)

    def read_boxes(self, image: np.ndarray, boxes, shape, source: str = "") -> Table:
        """Cell boxes from the page are read like a whole picture: the values do not depend on them."""
        return self.read(image, shape, source)


# ---------------------------------------------------------------------------- a fake browser

class FakeElement:
    def __init__(self, png: bytes = b"", on_click: Callable[[], None] | None = None, loaded: bool = True):
        self.png, self.on_click, self.loaded = png, on_click, loaded
        self.value = ""
        self.scrolled = False
        self.shown = True  # False once the page it was on is replaced

    def is_displayed(self) -> bool:
        return self.shown

    @property
    def screenshot_as_png(self) -> bytes:
        return self.png

    def clear(self) -> None:
        self.value = ""

    def send_keys(self, *value: str) -> None:
        self.value += "".join(value)

    def click(self) -> None:
        if self.on_click:
            self.on_click()


class FakeSite:
    """What a FakeDriver browses: a login form at /login (the demo's selectors) and table pages.

    `tables` maps a page path to {css selector: FakeElement}. Knobs: `unreachable` (connection
    refused), `answer_login` (False: the form never gets an answer), `expired` (every page
    redirects to the login page, as after a lost session), `login_form` (False: no form at /login),
    `http_errors` ({path: [status, ...]}: the next visits of that path answer with those statuses)."""

    def __init__(self, username: str, password: str, tables: dict[str, dict[str, FakeElement]]):
        self.username, self.password, self.tables = username, password, tables
        self.unreachable = False
        self.answer_login = True
        self.expired = False
        self.login_form = True
        self.http_errors: dict[str, list[int]] = {}  # path -> statuses its next visits answer with


class FakeDriver:
    """Implements `robot.browser.driver.Driver` over a FakeSite. Its page source echoes what was typed,
    as a careless site might, so tests can prove the robot redacts it."""

    def __init__(self, site: FakeSite, base_url: str = "http://fake.test"):
        self.site, self.base_url = site, base_url
        self.current_url = "about:blank"
        self.elements: dict[str, FakeElement] = {}
        self.logged_in = False
        self.visited: list[str] = []
        self.screenshots_taken = 0
        self.quit_called = False
        self.status = 200  # the HTTP status of the page shown
        self.crashed = False  # True: the browser is gone; every call fails as after a crash

    @property
    def elements(self) -> dict[str, FakeElement]:
        return self._elements

    @elements.setter
    def elements(self, page: dict[str, FakeElement]) -> None:
        for element in getattr(self, "_elements", {}).values():  # the page they were on is gone
            element.shown = False
        for element in page.values():
            element.shown = True
        self._elements = page

    # --- Driver protocol
    def get(self, url: str) -> None:
        self._alive()
        if self.site.unreachable:
            raise WebDriverException("unknown error: net::ERR_CONNECTION_REFUSED\n  (Session info: chrome=120)")
        self.visited.append(url)
        path = urlsplit(url).path
        self.status = 200
        if self.site.http_errors.get(path):
            self.status = self.site.http_errors[path].pop(0)
            self.current_url, self.elements = url, {}
        elif path == "/login":
            self._show_login(error=False)
        elif path in self.site.tables and (not self.logged_in or self.site.expired):
            self._show_login(error=False)
        elif path in self.site.tables:
            self.current_url = url
            self.elements = {"#logout": FakeElement(), **self.site.tables[path]}
        else:
            self.current_url, self.elements = url, {}

    def find_elements(self, by: str, value: str) -> list[FakeElement]:
        self._alive()
        return [self.elements[value]] if value in self.elements else []

    def execute_script(self, script: str, *args):
        self._alive()
        if "responseStatus" in script:
            return self.status
        if "XMLHttpRequest" in script:
            return None  # where an image leads: the fake's images have no address
        if "chrome-error://" in script:
            return None  # the fake's unreachable site raises from `get` instead
        if "scrollIntoView" in script:
            args[0].scrolled = True
            return None
        raise AssertionError(f"unexpected script {script!r}")

    def execute_async_script(self, script: str, *args):
        """robot.browser.readiness's snapshot: ready once loaded, else the image has not loaded."""
        self._alive()
        if "getAnimations" in script:
            return None if args[0].loaded else ["loaded", "@@what@@'s image has not finished loading"]
        raise AssertionError(f"unexpected async script {script!r}")

    @property
    def page_source(self) -> str:
        fields = " ".join(f'<x data-css="{css}" value="{el.value}"/>' for css, el in self.elements.items())
        return f"<html><body>{fields}</body></html>"

    def get_screenshot_as_png(self) -> bytes:
        self._alive()
        self.screenshots_taken += 1
        return grid_png(2, 2)

    def quit(self) -> None:
        self.quit_called = True

    def _alive(self) -> None:
        if self.crashed or self.quit_called:
            raise WebDriverException("invalid session id: session deleted as the browser has closed the connection")

    # --- the site's behaviour
    def _show_login(self, error: bool) -> None:
        self.current_url = self.base_url + "/login"
        if not self.site.login_form:
            self.elements = {}
            return
        user, password = FakeElement(), FakeElement()
        self.elements = {
            "input[name=username]": user,
            "input[name=password]": password,
            "button[type=submit]": FakeElement(on_click=lambda: self._submit(user.value, password.value)),
        }
        if error:
            self.elements[".login-error"] = FakeElement()

    def _submit(self, user: str, password: str) -> None:
        if not self.site.answer_login:
            return
        if (user, password) == (self.site.username, self.site.password):
            self.logged_in = True
            self.current_url = self.base_url + "/"
            self.elements = {"#logout": FakeElement()}
        else:
            typed = dict(self.elements)
            self._show_login(error=True)
            # a careless site re-renders what was typed into the form
            self.elements["input[name=username]"].value = typed["input[name=username]"].value
            self.elements["input[name=password]"].value = typed["input[name=password]"].value


FAKE_USER = "robot-user"
FAKE_PASSWORD = "pw-" + "Zq7" * 4  # distinctive, easy to grep for


class FakeOpener(list):
    """An `open_browser` for `RunParts`: yields `driver` each time, and records each call's settings."""

    def __init__(self, driver: "FakeDriver") -> None:
        super().__init__()
        self.driver = driver

    @contextlib.contextmanager
    def __call__(self, settings):
        self.append(settings)
        self.driver.quit_called = False
        try:
            yield self.driver
        finally:
            self.driver.quit()


def fake_parts(reader: FakeReader | None = None, opener=None):
    """`RunParts` with the fake reader (and a fake or recording opener); the real opener when none is given."""
    from robot.run import RunParts

    reader = reader or FakeReader()
    return RunParts(load_reader=lambda settings: reader) if opener is None else \
        RunParts(open_browser=opener, load_reader=lambda settings: reader)


def robot_cli(monkeypatch, capsys, *args: str, parts=None) -> tuple[int, str, str]:
    """Run the `robot` CLI in-process with `parts` (`RunParts`) for its runs: (exit code, stdout, stderr)."""
    import pytest

    import robot.cli

    monkeypatch.setattr(sys, "argv", ["robot", *args])
    with pytest.raises(SystemExit) as info:
        robot.cli.main(obj=parts)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err
