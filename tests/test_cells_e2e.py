"""Tables made of HTML cells (`tables[].cells`, `header_cells`): their boxes come from the page and the
recognizer reads exactly those, no segmentation. Real headless Chromium on the demo site's /cells page
(an HTML <table> of number images with word headers, a CSS grid of round chips laid out column by
column), the real model, every value checked against the site's truth."""
from __future__ import annotations

import json
import socket

import pytest

from recognizer.imageio import decode_png
from robot.browser.readiness import GRID as GRID_POINTS
from robot.browser.readiness import MIN_OPACITY, READINESS_JS
from robot.browser.waiting import navigate, page_url
from robot.capture import capture, login, png_size
from robot.config import Login, Page, TableSpec, load_config
from robot.run import run_once
from robot.runfolder import read_cells_file
from tablebot.errors import ConfigError
from tests.conftest import PROJECT_CONFIG

WAIT_S = 6
GRID = {"name": "grid", "selector": "#cells-table", "cells": "tr > *", "header_cells": "th", "rows": 8, "cols": 15}
CHIPS = {"name": "chips", "selector": "#chips", "cells": ".chip", "rows": 4, "cols": 10}
TRUTH = {"grid": ("dark", "main"), "chips": ("roulette", "small")}


def cells_config(write_config, server, **browser):
    return load_config(write_config({
        "target": {"kind": "url", "url": server.url},
        "browser": {"wait_timeout_s": WAIT_S, **browser},
        "pages": [{"name": "cells", "path": "/cells", "tables": [
            GRID, CHIPS, {**GRID, "name": "no-header", "header_cells": None}]}],
        "output": {"deduplicate": False}}))


def right_or_flagged(rows, server) -> dict[str, int]:
    """cells.csv rows by table, each value checked against the truth; returns the flagged count per table."""
    flagged = {}
    for table, (page, name) in TRUTH.items():
        truth = server.truth(page, name)
        got = {(r.row, r.col): r for r in rows if r.table == table}
        assert sorted(got) == [(i, j) for i in range(len(truth)) for j in range(len(truth[0]))], table
        wrong = [(k, c.value, truth[k[0]][k[1]]) for k, c in got.items()
                 if c.value != truth[k[0]][k[1]] and not c.needs_review]
        assert not wrong, (table, wrong)
        flagged[table] = sum(c.needs_review for c in got.values())
    return flagged


@pytest.mark.parametrize("scale", [1.0, 2.0], ids=["dpr1", "dpr2"])
def test_html_cell_tables_are_read_from_their_cell_boxes(module_demo_site, write_config, monkeypatch, scale):
    server, password = module_demo_site
    monkeypatch.setenv("ROBOT_USERNAME", "robot")
    monkeypatch.setenv("ROBOT_PASSWORD", password)
    if not load_config(PROJECT_CONFIG).model.path.is_file():
        pytest.skip("no shipped model")
    result = run_once(cells_config(write_config, server, device_scale_factor=scale))

    assert sorted(t.stem for t in result.tables) == ["cells__chips", "cells__grid"]
    assert right_or_flagged(read_cells_file(result.folder / "cells.csv"), server) == {"grid": 0, "chips": 0}
    for item in result.tables:  # boxes in device pixels of the element screenshot, row by row
        image = decode_png(item.png)
        rows, cols = item.table.rows, item.table.cols
        first, last = item.table.cell(0, 0).box, item.table.cell(rows - 1, cols - 1).box
        assert first.x < item.table.cell(0, 1).box.x and first.y < item.table.cell(1, 0).box.y
        assert last.x + last.w <= image.shape[1] and last.y + last.h <= image.shape[0]
        assert first.w >= scale * 30, first  # CSS px times the device pixel ratio

    [failure] = result.errors
    assert (failure.where, failure.error) == ("cells/no-header", "CellCountMismatch")
    assert failure.message == (
        "table cells/no-header: 144 data cells match cells 'tr > *', expected rows x cols = 8x15 = 120: check "
        "pages[cells].tables[no-header].rows/cols/cells/header_cells in config.yaml")
    assert failure.table_image and (result.folder / failure.table_image).is_file()
    run = json.loads((result.folder / "run.json").read_text())
    assert [e["error"] for e in run["errors"]] == ["CellCountMismatch"]


def test_cell_boxes_follow_the_layout_not_the_dom_order(module_chromium, module_demo_site):
    """The chips are in the DOM column by column (grid-auto-flow: column); the table comes out row by row."""
    server, password = module_demo_site
    driver = module_chromium
    login(driver, server.url, Login(), "robot", password, timeout=WAIT_S)
    navigate(driver, page_url(server.url, "/cells"))
    spec = TableSpec(**CHIPS)
    captured = capture(driver, Page(name="cells", path="/cells", tables=[spec]), spec, timeout=WAIT_S)
    boxes = captured.cell_boxes
    assert len(boxes) == 40 and boxes[0].x == boxes[1].x and boxes[1].y > boxes[0].y  # DOM: down the first column
    header = TableSpec(**{**GRID, "header_cells": "thead th, tbody th"})
    assert len(capture(driver, Page(name="cells", path="/cells", tables=[header]), header,
                       timeout=WAIT_S).cell_boxes) == 120


@pytest.mark.parametrize(("table", "message"), [
    ({"cells": "td"}, "tables.0: Value error, table t: cells needs rows and cols"),
    ({"header_cells": "th", "rows": 2, "cols": 2}, "table t: header_cells needs cells"),
    ({"cells": "td", "rows": 2, "cols": 2, "skip_rows": 1}, "with cells, leave header cells out with header_cells"),
])
def test_cells_settings_are_checked(write_config, table, message):
    path = write_config({"pages": [{"name": "p", "path": "/p", "tables": [{"name": "t", "selector": "#t", **table}]}]})
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


def test_a_table_waits_for_the_images_in_its_cells(module_chromium, module_demo_site):
    """Readiness: an <img> inside the table element that is still loading keeps the table from being captured."""
    server, password = module_demo_site
    driver = module_chromium
    login(driver, server.url, Login(), "robot", password, timeout=WAIT_S)
    navigate(driver, page_url(server.url, "/cells"))
    with socket.socket() as silent:  # accepts connections, never answers: the image never finishes loading
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        element = driver.execute_script(
            "const t = document.getElementById('cells-table'); const img = document.createElement('img');"
            "img.width = 20; img.height = 20; img.src = arguments[0];"
            "t.querySelector('td:empty').appendChild(img); return t;",
            f"http://127.0.0.1:{silent.getsockname()[1]}/cell.png")
        condition, message = driver.execute_async_script(READINESS_JS, element, MIN_OPACITY, GRID_POINTS, True)
    assert (condition, message) == ("loaded", "an image inside @@what@@ has not finished loading")


def test_a_window_narrower_than_the_table_grows_for_it_so_no_cell_is_cut_off(module_chromium, module_demo_site):
    """Cells outside the screenshot would be read as empty (or fail the table, `CellsOutsideScreenshot`):
    the window grows for the table, and gets its size back afterwards."""
    server, password = module_demo_site
    driver = module_chromium
    login(driver, server.url, Login(), "robot", password, timeout=WAIT_S)
    size = driver.get_window_size()
    driver.set_window_size(600, size["height"])
    try:
        navigate(driver, page_url(server.url, "/cells"))
        spec = TableSpec(**GRID)
        captured = capture(driver, Page(name="cells", path="/cells", tables=[spec]), spec, timeout=WAIT_S)
        width, height = png_size(captured.png)
        assert len(captured.cell_boxes) == spec.rows * spec.cols
        assert max(b.x + b.w for b in captured.cell_boxes) <= width + 1
        assert driver.get_window_size()["width"] == 600
    finally:
        driver.set_window_size(size["width"], size["height"])
