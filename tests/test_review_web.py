"""`robot review` on a generated harvest run: run-file corrections, the workspace, the web pages,
and (e2e) labelling with the keyboard in real headless Chromium."""
from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.imageio import encode_png
from recognizer.labelset import NOT_A_NUMBER, BadLabel, label_id, run_source
from recognizer.table import (
    Box,
    Cell,
    Table,
    read_grid_csv,
    write_grid_csv,
    write_table_json,
)
from robot.annotate import annotate
from robot.review.app import PageSettings, create_app
from robot.review.sources import image_loader, run_loader
from robot.review.store import LabelStore
from robot.review.workspace import UnknownCell, Workspace
from robot.runfolder import RunTable, correct_cell, find_run_tables, read_table
from tablebot.errors import DataError
from tests.review_server import serving

# ------------------------------------------------------------------ a generated harvest run

RUN_ID = "20240102T030405Z-a1b2c3"
CELL_W, CELL_H = 64, 44
LONG_HEADER = ["run_id", "captured_at", "page", "table", "row", "col", "value", "confidence", "needs_review", "confirmed"]
# True values per table; FLAGGED holds the model's (wrong or unsure) guess for the cells it flagged.
TRUTH = {
    "light__main": [[5, 17, None, 36], [0, 23, 8, 11], [30, 3, 14, None]],
    "dark__main": [[1, 2], [33, 4]],
}
FLAGGED = {
    "light__main": {(0, 1): 11, (1, 2): 3, (2, 0): 30},  # the last guess is right, only unsure
    "dark__main": {(1, 0): 33},  # guessed right, only unsure
}


def start_server(app, host: str, port: int):
    """Serve in a background thread (port 0 picks a free one); stop with `server.shutdown()`."""
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="review-server", daemon=True)
    thread.start()
    return server, thread


def render_table(values: list[list[int | None]], dark: bool = False) -> np.ndarray:
    rows, cols = len(values), len(values[0])
    bg, ink = ((40, 36, 32), (235, 235, 235)) if dark else ((255, 255, 255), (30, 30, 30))
    image = np.full((rows * CELL_H + 1, cols * CELL_W + 1, 3), bg, np.uint8)
    for r in range(rows + 1):
        cv2.line(image, (0, r * CELL_H), (cols * CELL_W, r * CELL_H), (150, 150, 150), 1)
    for c in range(cols + 1):
        cv2.line(image, (c * CELL_W, 0), (c * CELL_W, rows * CELL_H), (150, 150, 150), 1)
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            if v is None:
                continue
            (tw, th), _ = cv2.getTextSize(str(v), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 2)
            org = (c * CELL_W + (CELL_W - tw) // 2, r * CELL_H + (CELL_H + th) // 2)
            cv2.putText(image, str(v), org, cv2.FONT_HERSHEY_SIMPLEX, 0.9, ink, 2, cv2.LINE_AA)
    return image


def recognised(stem: str) -> Table:
    """What the recognizer would have returned: the truth, except the flagged guesses."""
    truth, flagged = TRUTH[stem], FLAGGED[stem]
    cells = []
    for r, row in enumerate(truth):
        for c, v in enumerate(row):
            box = Box(c * CELL_W, r * CELL_H, CELL_W, CELL_H)
            if (r, c) in flagged:
                cells.append(Cell(r, c, flagged[(r, c)], 0.41, box, needs_review=True))
            else:
                cells.append(Cell(r, c, v, 1.0 if v is None else 0.9876, box))
    return Table(len(truth), len(truth[0]), tuple(cells), source=stem)


def make_run(output: Path, run_id: str = RUN_ID) -> Path:
    """A run folder in exactly the robot's format (see robot/runfolder.py), written independently of it."""
    folder = output / run_id
    folder.mkdir(parents=True)
    long_rows = []
    for stem in TRUTH:
        table = recognised(stem)
        image = render_table(TRUTH[stem], dark=stem.startswith("dark"))
        with open(folder / f"{stem}.csv", "w", newline="", encoding="utf-8") as f:
            write_grid_csv(table, f)
        with open(folder / f"{stem}.json", "w", encoding="utf-8") as f:
            write_table_json(table, f)
        cv2.imwrite(str(folder / f"{stem}.png"), image)
        (folder / f"{stem}.annotated.png").write_bytes(encode_png(annotate(image, table)))
        page, name = stem.split("__")
        for cell in table:
            long_rows.append([run_id, "2024-01-02T03:04:05.000Z", page, name, cell.row, cell.col,
                              "" if cell.value is None else cell.value, f"{cell.confidence:.4f}",
                              str(cell.needs_review).lower(), str(cell.confirmed).lower()])
    with open(folder / "cells.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(LONG_HEADER)
        writer.writerows(long_rows)
    (folder / "run.json").write_text("{}\n")
    return folder


def long_row(folder: Path, page: str, table: str, row: int, col: int) -> dict:
    with open(folder / "cells.csv", newline="", encoding="utf-8") as f:
        hits = [r for r in csv.DictReader(f) if (r["page"], r["table"], r["row"], r["col"]) == (page, table, str(row), str(col))]
    assert len(hits) == 1
    return hits[0]


def grid(folder: Path, stem: str) -> list[list[int | None]]:
    with open(folder / f"{stem}.csv", newline="", encoding="utf-8") as f:
        return read_grid_csv(f)


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file()}


def item_id(stem: str, row: int, col: int) -> str:
    return label_id(run_source(RUN_ID, stem, row, col))


@pytest.fixture
def run_folder(tmp_path) -> Path:
    return make_run(tmp_path / "runs")


@pytest.fixture
def workspace(run_folder, tmp_path) -> Workspace:
    return Workspace(LabelStore(tmp_path / "labels"), run_loader(run_folder.parent, ()), max_pixels=10_000_000)


# ------------------------------------------------------------------ run files

def test_find_run_tables_lists_tables_with_screenshots_newest_run_first(run_folder):
    make_run(run_folder.parent, "20250101T000000Z-ffffff")
    (run_folder.parent / "jobs.sqlite").write_text("")
    found = find_run_tables(run_folder.parent)
    assert [(t.run_id, t.stem) for t in found][:2] == [("20250101T000000Z-ffffff", "dark__main"), ("20250101T000000Z-ffffff", "light__main")]
    assert len(found) == 4
    assert [t.run_id for t in find_run_tables(run_folder.parent, [RUN_ID])] == [RUN_ID, RUN_ID]


def test_find_run_tables_refuses_an_unknown_or_odd_run_id(run_folder):
    for bad in ("nope", "../runs", ".."):
        with pytest.raises(DataError, match="no run"):
            find_run_tables(run_folder.parent, [bad])


def test_correct_cell_updates_the_json_the_wide_and_the_long_csv(run_folder):
    rt = RunTable(run_folder, "light__main")
    before_dark = grid(run_folder, "dark__main")
    correct_cell(rt, 0, 1, 17, needs_review=False, confirmed=True)

    cell = read_table(rt).cell(0, 1)
    assert (cell.value, cell.needs_review, cell.confirmed) == (17, False, True)
    assert grid(run_folder, "light__main")[0] == [5, 17, None, 36]
    row = long_row(run_folder, "light", "main", 0, 1)
    assert (row["value"], row["needs_review"], row["confirmed"], row["confidence"]) == ("17", "false", "true", "0.4100")
    assert long_row(run_folder, "dark", "main", 0, 1)["confirmed"] == "false"  # same row/col, other table
    assert grid(run_folder, "dark__main") == before_dark
    assert not list(run_folder.glob(".*.tmp"))


# ------------------------------------------------------------------ the workspace

def test_the_default_queue_is_the_flagged_cells(workspace):
    progress = workspace.progress()
    assert (progress.done, progress.left) == (0, 4)
    first = workspace.current()
    # newest run first, tables by name: dark__main before light__main
    assert (first.source, first.guess, first.needs_review) == (run_source(RUN_ID, "dark__main", 1, 0), 33, True)
    crop = workspace.crop(first.id)
    assert crop.shape == (CELL_H, CELL_W, 3)


def test_a_correction_goes_to_the_dataset_and_the_run_and_undo_takes_it_back(workspace, run_folder, tmp_path):
    pristine = snapshot(run_folder)
    cell = item_id("light__main", 0, 1)
    record = workspace.label(cell, "17")

    assert record.label == 17 and record.source == run_source(RUN_ID, "light__main", 0, 1)
    labels = list(csv.DictReader(open(tmp_path / "labels" / "labels.csv", encoding="utf-8")))
    assert [(r["id"], r["label"]) for r in labels] == [(cell, "17")]
    stored = cv2.imread(str(tmp_path / "labels" / labels[0]["image"]))
    assert np.array_equal(stored, render_table(TRUTH["light__main"])[0:CELL_H, CELL_W : 2 * CELL_W])
    assert grid(run_folder, "light__main")[0][1] == 17
    assert long_row(run_folder, "light", "main", 0, 1)["confirmed"] == "true"
    annotated = run_folder / "light__main.annotated.png"
    assert annotated.read_bytes() != pristine[str(annotated)], "the annotated copy shows the correction"
    assert workspace.progress().done == 1 and workspace.progress().left == 3

    undone = workspace.undo()
    assert undone.id == cell
    assert snapshot(run_folder) == pristine, "undo restores every run file byte for byte"
    assert cell not in LabelStore(tmp_path / "labels")
    assert workspace.progress().done == 0 and workspace.undo() is None


def test_relabelling_updates_and_not_a_number_empties_the_cell(workspace, run_folder, tmp_path):
    cell = item_id("light__main", 1, 2)
    workspace.label(cell, "8")
    workspace.label(cell, NOT_A_NUMBER)
    store = LabelStore(tmp_path / "labels")
    assert len(store) == 1 and store.get(cell).label == NOT_A_NUMBER
    assert grid(run_folder, "light__main")[1][2] is None
    row = long_row(run_folder, "light", "main", 1, 2)
    assert (row["value"], row["confirmed"], row["needs_review"]) == ("", "true", "false")
    workspace.undo()
    assert LabelStore(tmp_path / "labels").get(cell).label == 8 and grid(run_folder, "light__main")[1][2] == 8


@pytest.mark.parametrize("bad", ["37", "abc", "", "05", "٣", "³", "１"])  # non-ASCII digits too
def test_a_bad_label_is_refused_and_changes_nothing(workspace, run_folder, tmp_path, bad):
    before = snapshot(run_folder, tmp_path / "labels")
    with pytest.raises(BadLabel):
        workspace.label(item_id("light__main", 0, 1), bad)
    assert snapshot(run_folder, tmp_path / "labels") == before
    assert workspace.progress().done == 0 and not workspace.can_undo()


def test_skip_sets_a_cell_aside_until_revisited(workspace):
    first = workspace.current()
    workspace.skip(first.id)
    assert workspace.current().id != first.id and workspace.progress().skipped == 1
    workspace.revisit_skipped()
    assert workspace.current().id == first.id
    with pytest.raises(UnknownCell):
        workspace.skip("0123456789abcdef")


def test_a_label_saved_just_before_a_crash_reaches_the_run_files_on_the_next_start(run_folder, tmp_path):
    # The tool writes the dataset first; pretend it was stopped before touching the run.
    store = LabelStore(tmp_path / "labels")
    store.put(run_source(RUN_ID, "light__main", 0, 1), np.zeros((4, 4, 3), np.uint8), 17)
    workspace = Workspace(LabelStore(tmp_path / "labels"), run_loader(run_folder.parent, ()), max_pixels=10_000_000)
    assert grid(run_folder, "light__main")[0][1] == 17
    assert long_row(run_folder, "light", "main", 0, 1)["confirmed"] == "true"
    assert workspace.progress().done == 1 and workspace.progress().left == 3  # still counted, as done


class FakeReader:
    """Stands in for recognizer.predictor.TableReader: same read() contract, known answers."""

    def __init__(self):
        self.calls = []

    def read(self, image, shape, source, *, refuse_unreadable=True):
        self.calls.append((image.shape, shape, source, refuse_unreadable))
        return recognised("light__main")


def test_images_mode_queues_every_non_empty_cell_and_writes_only_the_dataset(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "t1.png"), render_table(TRUTH["light__main"]))
    (folder / "notes.txt").write_text("not an image")
    reader = FakeReader()
    from recognizer.settings import ModelSettings, TableShape

    loader = image_loader(folder, TableShape(rows=3, cols=4), ModelSettings(), lambda settings: reader)
    workspace = Workspace(LabelStore(tmp_path / "labels"), loader, max_pixels=10_000_000)
    assert [c[2] for c in reader.calls] == ["t1.png"] and reader.calls[0][1].rows == 3
    assert reader.calls[0][3] is False  # a new look's unreadable cells are queued, not refused
    assert workspace.progress().left == 10  # 12 cells, 2 empty
    first = workspace.current()
    assert first.source == "image:t1.png:0,0" and first.guess == 5
    workspace.label(first.id, "5")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "t1.png"]
    assert LabelStore(tmp_path / "labels").get(first.id).source == "image:t1.png:0,0"
    # The table view of an image shows the answer too.
    assert workspace.doc(first.doc_key).table.cell(0, 0).confirmed


# ------------------------------------------------------------------ the web pages (Flask test client)

@pytest.fixture
def client(workspace, tmp_path):
    app = create_app(workspace, PageSettings(160, tmp_path / "labels", "test"))
    return app.test_client()


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_label_page_shows_the_cell_guess_progress_and_keys(client):
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="label-input"' in html and "model's guess" in html and "33" in html
    assert re.search(r'id="done-count">0<.*id="left-count">4<', html, re.S)
    assert "Enter</kbd> alone accepts the guess" in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_post_label_saves_and_redirects_and_a_bad_one_is_a_400_with_a_message(client, run_folder, tmp_path):
    html = client.get("/").get_data(as_text=True)
    cell = item_id("light__main", 0, 1)
    before = snapshot(run_folder)
    bad = client.post("/label", data={"token": token_of(html), "item": cell, "label": "37"})
    assert bad.status_code == 400 and "not a number from 0 to 36" in bad.get_data(as_text=True)
    assert snapshot(run_folder) == before and not (tmp_path / "labels" / "labels.csv").exists()

    ok = client.post("/label", data={"token": token_of(html), "item": cell, "label": "17"})
    assert ok.status_code == 303
    follow = client.get("/").get_data(as_text=True)
    assert "Saved 17" in follow and 'id="done-count">1<' in follow
    assert grid(run_folder, "light__main")[0][1] == 17


def test_changes_only_by_post_with_the_page_token(client, run_folder):
    before = snapshot(run_folder)
    cell = item_id("light__main", 0, 1)
    assert client.get(f"/label?item={cell}&label=17").status_code == 405
    assert client.get("/undo").status_code == 405
    assert client.post("/label", data={"item": cell, "label": "17"}).status_code == 403
    assert client.post("/label", data={"token": "forged", "item": cell, "label": "17"}).status_code == 403
    assert snapshot(run_folder) == before


def test_only_loopback_host_names_are_answered(client):
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 403
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8765"}).status_code == 200


def test_no_file_outside_the_reviewed_tables_and_the_labels_folder_is_served(client, workspace, tmp_path):
    secret = tmp_path / "secret.png"
    cv2.imwrite(str(secret), np.zeros((4, 4, 3), np.uint8))
    for url in ("/cell/..%2f..%2fsecret.png", "/cell/../secret.png", "/table/..%2fsecret/screenshot",
                "/label-image/..%2f..%2fsecret.png", "/static/..%2f..%2f..%2fconfig.py", "/static/../app.py",
                "/table/nope", "/cell/0123456789abcdef.png"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.get_data() != secret.read_bytes()
    # A hand-edited labels.csv pointing outside the folder is not followed either.
    workspace.label(item_id("light__main", 0, 1), "17")
    labels = tmp_path / "labels" / "labels.csv"
    labels.write_text(labels.read_text().replace("cells/", "../../"))
    workspace.store.__init__(tmp_path / "labels")
    assert client.get(f"/label-image/{item_id('light__main', 0, 1)}.png").status_code == 404


def test_table_view_overlays_values_and_flags(client, workspace):
    doc = next(d for d in workspace.docs() if d.run.stem == "light__main")
    html = client.get(f"/table/{doc.key}").get_data(as_text=True)
    assert html.count('class="ov-cell flagged"') == 3 and html.count("ov-cell plain") == 9
    assert "left: 24.903%; top: 0.000%; width: 24.903%" in html  # column 1: 64 of the image's 257 pixels
    assert client.get(f"/table/{doc.key}/screenshot").mimetype == "image/png"


def test_labels_page_draws_the_class_histogram(client, workspace):
    workspace.label(item_id("light__main", 0, 1), "17")
    workspace.label(item_id("light__main", 1, 2), NOT_A_NUMBER)
    html = client.get("/labels?label=17").get_data(as_text=True)
    assert html.count("<rect") == 38
    assert "<title>17: 1</title>" in html and f"<title>{NOT_A_NUMBER}: 1</title>" in html
    assert html.count('class="thumb"') == 1  # the gallery of the chosen class


# ------------------------------------------------------------------ real headless Chromium

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,900"]
SHOTS = Path("/tmp/review_shots")
WAIT_S = 10


@pytest.fixture
def browser():
    if not (shutil.which("chromium") and Path("/usr/bin/chromedriver").exists()):
        pytest.skip("needs Debian chromium and chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="review-chromium-")
    options = webdriver.ChromeOptions()
    for arg in [*CHROMIUM_ARGS, f"--user-data-dir={profile}"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def served(workspace, tmp_path):
    app = create_app(workspace, PageSettings(160, tmp_path / "labels", "cells flagged in the test run"))
    server, thread = start_server(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def gone(old):
    """A wait condition: `old` has left the page (`staleness_of`, but also where Chromium answers that the
    node "does not belong to the document", as the robot counts it: `robot.browser.driver.gone`)."""
    from selenium.common.exceptions import WebDriverException

    from robot.browser.driver import gone as left_its_document

    def left(_) -> bool:
        try:
            old.is_enabled()
            return False
        except WebDriverException as exc:
            if left_its_document(exc):
                return True
            raise

    return left


def press(driver, keys: str) -> None:
    """Type into the page and wait until the form it submits has loaded the next page."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("tag name", "html")
    ActionChains(driver).send_keys(keys).perform()
    WebDriverWait(driver, WAIT_S).until(gone(old), f"the page did not reload after typing {keys!r}")


def text_of(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def shoot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


@pytest.mark.e2e
def test_label_with_the_keyboard_reload_and_check_the_corrected_csvs(browser, served, run_folder, tmp_path):
    from selenium.webdriver.common.keys import Keys

    browser.get(served + "/")
    assert (text_of(browser, "done-count"), text_of(browser, "left-count")) == ("0", "4")
    shoot(browser, "1-queue")
    # Queue order: dark (1,0) guessed 33 right; light (0,1) guess 11 is 17; (1,2) guess 3 is 8; (2,0) guess 30 right.
    press(browser, Keys.ENTER)  # accept 33
    press(browser, "17" + Keys.ENTER)
    press(browser, "37" + Keys.ENTER)  # refused, with a message, nothing saved
    assert "not a number from 0 to 36" in text_of(browser, "error")
    assert text_of(browser, "done-count") == "2"
    shoot(browser, "2-refused")
    press(browser, "8" + Keys.ENTER)  # the refused "37" is selected: typing replaces it
    press(browser, "s")  # skip (2,0)
    assert browser.find_elements("id", "finished")
    press(browser, "u")  # undo the 8
    assert text_of(browser, "guess") == "3" and text_of(browser, "done-count") == "2"
    press(browser, "9" + Keys.ENTER)  # a different answer this time
    press(browser, "u")
    press(browser, "x")  # not a number

    browser.refresh()
    assert (text_of(browser, "done-count"), text_of(browser, "left-count")) == ("3", "1")
    recent = [(e.get_attribute("data-source"), e.get_attribute("data-label"))
              for e in browser.find_elements("css selector", "#recent .thumb")]
    assert sorted(recent) == sorted([
        (run_source(RUN_ID, "dark__main", 1, 0), "33"),
        (run_source(RUN_ID, "light__main", 0, 1), "17"),
        (run_source(RUN_ID, "light__main", 1, 2), NOT_A_NUMBER),
    ])
    shoot(browser, "3-finished")

    # Persisted: the dataset, and the run's CSVs corrected and marked confirmed by a person.
    labels = {r["source"]: r["label"] for r in csv.DictReader(open(tmp_path / "labels" / "labels.csv", encoding="utf-8"))}
    assert labels == dict(recent)
    assert grid(run_folder, "light__main") == [[5, 17, None, 36], [0, 23, None, 11], [30, 3, 14, None]]
    assert grid(run_folder, "dark__main") == TRUTH["dark__main"]
    for page, table, r, c, value in [("light", "main", 0, 1, "17"), ("light", "main", 1, 2, ""), ("dark", "main", 1, 0, "33")]:
        row = long_row(run_folder, page, table, r, c)
        assert (row["value"], row["needs_review"], row["confirmed"]) == (value, "false", "true")
    assert long_row(run_folder, "light", "main", 2, 0)["needs_review"] == "true"  # the skipped cell
    data = json.loads((run_folder / "light__main.json").read_text())
    assert data["cells"][1]["value"] == 17 and data["cells"][1]["confirmed"] is True


@pytest.mark.e2e
def test_click_a_cell_in_the_table_view_to_correct_it(browser, served, workspace, run_folder):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    doc = next(d for d in workspace.docs() if d.run.stem == "light__main")
    browser.get(f"{served}/table/{doc.key}")
    flagged = browser.find_elements("css selector", ".ov-cell.flagged")
    assert len(flagged) == 3
    target = browser.find_element("css selector", f'.ov-cell[data-item="{item_id("light__main", 2, 0)}"]')
    target.click()
    editor = browser.find_element("id", "cell-editor")
    assert editor.is_displayed()
    shoot(browser, "4-table-editing")
    old = browser.find_element("tag name", "html")
    browser.switch_to.active_element.send_keys(Keys.ENTER)  # Enter alone confirms the shown 30
    WebDriverWait(browser, WAIT_S).until(gone(old))
    assert len(browser.find_elements("css selector", ".ov-cell.confirmed")) == 1
    assert long_row(run_folder, "light", "main", 2, 0)["confirmed"] == "true"
    shoot(browser, "5-table-confirmed")

    browser.get(f"{served}/tables")
    shoot(browser, "6-tables")
    assert [e.text for e in browser.find_elements("css selector", ".pill.confirmed")] == ["1"]

    browser.get(f"{served}/labels?label=30")
    shoot(browser, "7-histogram")
    assert browser.find_element("css selector", ".histogram svg").is_displayed()


# ------------------------------------------------------------------ the command

def test_robot_review_serves_until_ctrl_c_and_keeps_every_label(run_folder, tmp_path):
    import sys
    import urllib.parse
    import urllib.request

    config = tmp_path / "config.yaml"
    config.write_text(
        "pages:\n  - {name: light, path: /t, tables: [{name: main, selector: '#t'}]}\n"
        f"output: {{folder: {run_folder.parent}}}\nreview: {{port: 0, labels_folder: labels}}\n"
    )
    with serving([sys.executable, "-c", "from robot.cli import main; main()", "review", "--config", str(config)],
                 WAIT_S) as served:
        assert "4 to label, 0 done" in served.banner
        html = urllib.request.urlopen(served.url, timeout=WAIT_S).read().decode()
        assert 'id="left-count">4<' in html
        form = urllib.parse.urlencode({"token": token_of(html), "item": item_id("light__main", 0, 1), "label": "17"})
        urllib.request.urlopen(served.url + "label", data=form.encode(), timeout=WAIT_S)
    assert served.returncode == 0, served.rest
    rest = served.rest
    assert "stopped; 1 label(s) in" in rest and str(tmp_path / "labels") in rest
    assert LabelStore(tmp_path / "labels").get(item_id("light__main", 0, 1)).label == 17
    assert grid(run_folder, "light__main")[0][1] == 17
