"""Readiness with real headless Chromium on the demo site's /tricky page: a table is captured only once
a person would see it (faded in, overlay gone, banner gone), and a banner that stays is named."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from recognizer.imageio import decode_png
from robot.browser.readiness import GRID, MIN_OPACITY, READINESS_JS, wait_until_seen
from robot.browser.waiting import navigate, page_url
from robot.capture import login
from robot.config import Login, TableSpec, load_config
from robot.errors import TableNotReady
from robot.run import load_reader, run_once
from tests.conftest import PROJECT_CONFIG
from tests.robot_fakes import FakeReader, fake_parts

WAIT_S = 6


@pytest.fixture(scope="module")
def site(module_chromium, module_demo_site):
    """The shared browser, logged in to the shared demo site: (driver, base url, server)."""
    server, password = module_demo_site
    login(module_chromium, server.url, Login(), "robot", password, timeout=WAIT_S)
    return module_chromium, server.url, server


@pytest.fixture(scope="module")
def model_reader():
    """The real recognizer, when its model is there (reading to the truth is then checked too)."""
    model = load_config(PROJECT_CONFIG).model
    if not model.path.is_file():
        return None
    return load_reader(model)


def open_tricky(site, query: str = ""):
    driver, base, _ = site
    navigate(driver, page_url(base, "/tricky" + query))
    return driver, time.monotonic()


def snapshot(driver, element):
    return driver.execute_async_script(READINESS_JS, element, MIN_OPACITY, GRID, True)


def reads_to_truth(reader, server, element, png: bytes) -> None:
    page, table = element.get_attribute("data-truth").split("/")
    truth = server.truth(page, table)
    if reader is None:
        return
    spec = TableSpec(name=table, selector="#x", rows=len(truth), cols=len(truth[0]))
    read = reader.read(decode_png(png), spec).to_grid()
    wrong = sum(a != b for ra, rb in zip(read, truth) for a, b in zip(ra, rb))
    assert wrong == 0, (page, table, read, truth)


@pytest.mark.parametrize(("element_id", "first_failure", "ends_after_s", "gone_js"), [
    ("fade-table", "not fully visible yet (opacity 0.00 on img#fade-table",
     1.5, "return getComputedStyle(arguments[0]).opacity === '1' && !arguments[0].getAnimations().length"),
    ("overlay-table", "div#loading-overlay covers all of", 1.0, "return !document.getElementById('loading-overlay')"),
    ("banner-table", "div#cookie-banner covers the lower", 1.5, "return !document.getElementById('cookie-banner')"),
])
def test_a_tricky_table_is_captured_once_the_behaviour_ends(site, model_reader, element_id, first_failure,
                                                            ends_after_s, gone_js):
    driver, opened_at = open_tricky(site)
    element = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", element)
    condition, message = snapshot(driver, element)
    assert first_failure in message, message

    png = wait_until_seen(driver, element, f"#{element_id}", WAIT_S, f"table tricky/{element_id}")

    assert time.monotonic() - opened_at >= ends_after_s - 0.1
    assert driver.execute_script(gone_js, element), "captured before the behaviour ended"
    assert png == element.screenshot_as_png  # what a screenshot after the behaviour shows
    reads_to_truth(model_reader, site[2], element, png)


def test_a_banner_that_stays_is_named_in_the_error(site):
    driver, _ = open_tricky(site, "?banner=stay")
    element = driver.find_element(By.ID, "banner-table")
    with pytest.raises(TableNotReady, match=r"^div#cookie-banner covers the lower \d+% of table tricky/banner "
                                            r"\(still so after 2 s") as caught:
        wait_until_seen(driver, element, "#banner-table", 2, "table tricky/banner")
    assert "\n" not in str(caught.value)
    assert caught.value.png and decode_png(caught.value.png).shape[0] > 0  # kept for the run folder


def test_hidden_blank_and_moving_elements_are_not_ready(site):
    driver, _ = open_tricky(site)
    driver.execute_script("""
        const c = document.createElement('canvas'); c.id = 'blank'; c.width = 40; c.height = 30;
        c.style.cssText = 'position: fixed; top: 80px; left: 10px; z-index: 99';
        document.body.appendChild(c);
        const h = document.createElement('div'); h.id = 'hidden'; h.textContent = 'x'; h.style.display = 'none';
        document.body.appendChild(h);
    """)
    canvas, hidden = driver.find_element(By.ID, "blank"), driver.find_element(By.ID, "hidden")
    assert snapshot(driver, canvas)[0] == "loaded"
    assert snapshot(driver, hidden)[1].endswith("is not visible (div#hidden has display: none)")
    driver.execute_script("arguments[0].getContext('2d').fillRect(5, 5, 10, 10);", canvas)
    assert snapshot(driver, canvas) is None
    driver.execute_script("arguments[0].animate([{transform: 'translateX(0)'}, {transform: 'translateX(30px)'}],"
                          " {duration: 5000});", canvas)
    assert snapshot(driver, canvas)[0] == "still"
    driver.execute_script("arguments[0].remove();", canvas)
    with pytest.raises(TableNotReady, match=r"^table t/c was replaced on the page \('#blank'\) \(still so after 0.3 s"):
        wait_until_seen(driver, canvas, "#blank", 0.3, "table t/c")


def test_a_run_keeps_a_never_ready_table_s_screenshot_and_reads_the_rest(module_demo_site, write_config, monkeypatch):
    server, password = module_demo_site
    monkeypatch.setenv("ROBOT_USERNAME", "robot")
    monkeypatch.setenv("ROBOT_PASSWORD", password)
    tables = [{"name": "fade", "selector": "#fade-table", "rows": 8, "cols": 15},
              {"name": "banner", "selector": "#banner-table", "rows": 8, "cols": 15}]
    config = load_config(write_config({
        "target": {"kind": "url", "url": server.url}, "browser": {"wait_timeout_s": 2.5},
        "pages": [{"name": "tricky", "path": "/tricky?banner=stay", "tables": tables}],
        "output": {"deduplicate": False}}))
    result = run_once(config, parts=fake_parts(FakeReader()))
    assert [t.stem for t in result.tables] == ["tricky__fade"]
    (failure,) = result.errors
    assert (failure.where, failure.error) == ("tricky/banner", "TableNotReady")
    assert failure.message.startswith("div#cookie-banner covers the lower")
    assert decode_png((result.folder / "failure__tricky__banner.table.png").read_bytes()).shape[0] > 0
    assert (result.folder / "failure__tricky__banner.png").is_file()  # the page, beside it
    (entry,) = json.loads((result.folder / "run.json").read_text())["errors"]
    assert entry["table_image"] == "failure__tricky__banner.table.png" and entry["message"] == failure.message


def test_a_table_larger_than_the_window_is_captured_whole_and_the_window_given_back(site, model_reader):
    """A screenshot ends at the viewport: a table taller (or wider) than it would be cut off and read wrong.
    The window grows for it, and gets its size back afterwards."""
    import base64

    import cv2
    import numpy as np

    from robot.capture import capture
    from robot.config import Page
    from tests.tables import Look, render

    driver, _, _ = site
    values = np.random.default_rng(5).integers(0, 37, (20, 15))
    png = cv2.imencode(".png", render(values, Look(cell_w=60, cell_h=44, size=20)))[1].tobytes()
    html = f'<body style="margin:0"><div style="height:300px"></div><img id="big" src="data:image/png;base64,' \
           f'{base64.b64encode(png).decode()}"></body>'
    size = driver.get_window_size()
    driver.set_window_size(800, 600)  # far smaller than the 900x880 px table
    try:
        driver.get("data:text/html;base64," + base64.b64encode(html.encode()).decode())
        spec = TableSpec(name="big", selector="#big", rows=20, cols=15)
        shot = capture(driver, Page(name="p", path="/", tables=[spec]), spec, timeout=WAIT_S).png
        image = decode_png(shot)
        expected = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[:2] == expected.shape[:2]  # whole, not cut at the viewport
        assert driver.get_window_size() == {"width": 800, "height": 600}  # given back
        if model_reader is not None:
            assert model_reader.read(image, spec).to_grid() == values.tolist()
    finally:
        driver.set_window_size(size["width"], size["height"])


def test_a_table_larger_than_its_frame_fails_naming_the_sizes(site):
    import base64

    driver, _, _ = site
    inner = '<body style="margin:0"><div id="t" style="width:300px;height:900px;background:#eee"></div></body>'
    html = f'<iframe id="f" style="width:400px;height:300px" src="data:text/html;base64,' \
           f'{base64.b64encode(inner.encode()).decode()}"></iframe>'
    driver.get("data:text/html;base64," + base64.b64encode(html.encode()).decode())
    driver.switch_to.frame(driver.find_element(By.ID, "f"))
    try:
        with pytest.raises(TableNotReady, match=r"table t is 300x900 px, more than its frame shows \(\d+x\d+\)"):
            wait_until_seen(driver, driver.find_element(By.ID, "t"), "#t", 1.0, "table t")
    finally:
        driver.switch_to.default_content()


@pytest.mark.parametrize("veil, covered", [
    ("background: rgba(255,255,255,0.9)", True),  # an "Updating..." veil that lets clicks through
    ("background: transparent", False),  # an empty layer (toasts, confetti) over the page: nothing shown
])
def test_a_veil_with_pointer_events_none_is_seen_an_empty_layer_is_not(site, veil, covered):
    import base64

    driver, _, _ = site
    html = ('<body style="margin:0"><div id="t" style="width:300px;height:200px;background:#123"></div>'
            f'<div id="veil" style="position:fixed;inset:0;pointer-events:none;{veil}"></div></body>')
    driver.get("data:text/html;base64," + base64.b64encode(html.encode()).decode())
    failed = snapshot(driver, driver.find_element(By.ID, "t"))
    if covered:
        assert failed[0] == "uncovered" and failed[1] == "div#veil covers all of @@what@@"
    else:
        assert failed is None


BOOTSTRAP = Path(__file__).resolve().parents[1] / "bench/gallery/vendor/bootstrap-5.3.9/bootstrap.min.css"


@pytest.mark.parametrize("page, cut_by", [
    # Bootstrap 5's own wrapper: the table scrolls inside div.table-responsive, in a .container of fixed width.
    ('<div class="container"><div class="table-responsive" id="box"><table class="table" id="t">{rows}</table>'
     '</div></div>', "div#box.table-responsive"),
    # mvp.css's rule for every table (`display: block; overflow-x: auto`): the table is its own scroll box.
    ('<style>#t td {{ padding: .4rem .6rem }}</style><div style="max-width:500px">'
     '<table id="t" style="display:block;overflow-x:auto">{rows}</table></div>',
     "table#t"),
    # A history list that scrolls down: the box's max-height shows three of its six rows.
    ('<div id="box" style="max-height:120px;overflow-y:auto;width:max-content"><table class="table" id="t">'
     '{rows}</table></div>', "div#box"),
])
def test_a_table_in_a_scroll_box_is_captured_whole_and_the_page_given_back(site, model_reader, page, cut_by):
    """A person scrolls a scroll box to see the rest of its table; a screenshot of it as it is shows only the
    part in view. The boxes open up for the capture, and the page gets its own styles back."""
    import base64

    import numpy as np

    from robot.capture import capture
    from robot.config import Page

    driver, _, _ = site
    values = np.random.default_rng(8).integers(0, 37, (6, 24))
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in values)
    html = (f"<html><head><style>{BOOTSTRAP.read_text()}</style></head><body style='font-size:20px'>"
            + page.format(rows=rows) + "</body></html>")
    size = driver.get_window_size()
    driver.set_window_size(800, 600)
    try:
        driver.get("data:text/html;base64," + base64.b64encode(html.encode()).decode())
        table = driver.find_element(By.ID, "t")
        styles = driver.execute_script("return [...document.querySelectorAll('[style]')].map(n => n.outerHTML.split('>')[0])")
        full = driver.execute_script("return [arguments[0].scrollWidth, arguments[0].scrollHeight]", table)
        condition, message = snapshot(driver, table)
        assert condition == "whole" and message.startswith(f"@@what@@ is cut by a scroll box ({cut_by} hides "), message

        spec = TableSpec(name="t", selector="#t", rows=6, cols=24)
        image = decode_png(capture(driver, Page(name="p", path="/", tables=[spec]), spec, timeout=WAIT_S).png)

        ratio = driver.execute_script("return devicePixelRatio")
        assert image.shape[1] >= (full[0] - 1) * ratio and image.shape[0] >= (full[1] - 1) * ratio  # all of it
        assert driver.execute_script(
            "return [...document.querySelectorAll('[style]')].map(n => n.outerHTML.split('>')[0])") == styles
        assert snapshot(driver, table)[0] == "whole"  # the page as it was: the box cuts it again
        if model_reader is not None:
            assert model_reader.read(image, spec).to_grid() == values.tolist()
    finally:
        driver.set_window_size(size["width"], size["height"])


def test_an_element_chromium_says_has_left_the_document_is_looked_up_again_not_a_crash():
    """Now and then, mid-navigation, Chromium answers that an element's node "does not belong to the
    document" where WebDriver would say stale (SeleniumHQ/selenium#15401); it cannot be made to on purpose,
    so a stand-in driver gives that answer once, as chromedriver words it."""
    from selenium.common.exceptions import WebDriverException

    class Shot:
        screenshot_as_png = b"\\x89PNG the table"

    class Driver:
        answers = [WebDriverException('unknown error: unhandled inspector error: {"code":-32000,"message":'
                                      '"Node with given id does not belong to the document"}')]

        def execute_script(self, script, *args):
            return None

        def execute_async_script(self, script, *args):
            if self.answers:
                raise self.answers.pop()
            assert args[0] is again, "the readiness check must look at the element found anew"
            return None

        def find_elements(self, by, value):
            return [again]

    again = Shot()
    assert wait_until_seen(Driver(), Shot(), "#t", 2, "table t") == Shot.screenshot_as_png


def test_a_frame_chromium_says_has_left_the_document_is_the_table_s_failure_not_the_browser_s():
    """The same answer inside a frame that reloaded while its table was read: the frame's failure, named."""
    from selenium.common.exceptions import WebDriverException

    from robot.browser.frames import inside_frames
    from robot.errors import TableNotFound

    class Frame:
        tag_name = "iframe"

        def is_displayed(self):
            return True

    class Driver:
        class switch_to:  # noqa: N801 - Selenium's name
            @staticmethod
            def default_content():
                pass

            @staticmethod
            def frame(element):
                pass

        def find_elements(self, by, value):
            return [Frame()]

        def execute_script(self, script, *args):
            return None

    with pytest.raises(TableNotFound, match=r"a frame of table t \(iframe#board\) reloaded while it was read"):
        with inside_frames(Driver(), ("iframe#board",), 1, "table t"):
            raise WebDriverException('unknown error: unhandled inspector error: {"code":-32000,"message":'
                                     '"Node with given id does not belong to the document"}')
