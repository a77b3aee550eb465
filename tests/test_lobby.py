"""Frames and many tables from one spec (`frame`, `name_from`): validated config, naming, the run's record,
and with real headless Chromium on the demo site's /lobby page, whole runs to CSV checked against the truth:
boards under one selector, boards one and two <iframe>s deep, a canvas drawn after a slow fetch."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By

from recognizer.imageio import decode_png
from robot.actions import run_actions
from robot.browser.readiness import wait_until_seen
from robot.browser.waiting import navigate, page_url
from robot.capture import capture_table, group_members, login, member_names
from robot.config import AppConfig, Login, Page, load_config
from robot.demo.app import (
    LATE_IMAGE_MS,
    LOBBY_CANVAS,
    LOBBY_FRAMES,
    LOBBY_WHEELS,
    create_app,
)
from robot.errors import ActionFailed, PageLoadFailed, TableNotFound, TableNotReady
from robot.ledger import Ledger
from robot.results import Failure
from robot.run import RunRecord, run_once
from robot.runfolder import RunTable, read_grid
from tablebot.clock import utc_now
from tablebot.errors import ConfigError
from tests.conftest import PROJECT
from tests.robot_fakes import FakeReader, fake_parts
from tests.test_config import PAGES, write
from tests.test_readiness import model_reader, snapshot  # noqa: F401 (a fixture)

WAIT_S = 6
WHEELS = {"name": "wheel", "selector": "img.wheel-board", "rows": 8, "cols": 15, "name_from": "data-wheel",
          "min_count": 4}
SIDE = {"name": "side", "selector": "#framed-table", "rows": 4, "cols": 10, "frame": ["#side-frame"]}
DEEP = {"name": "partner", "selector": "#framed-table", "rows": 8, "cols": 15, "frame": ["#outer-frame", "#inner-frame"]}
LIVE = {"name": "live", "selector": "#late-canvas", "rows": 8, "cols": 15}
LOBBY = {"name": "lobby", "path": "/lobby", "tables": [WHEELS, SIDE, DEEP, LIVE],
         "actions": [{"action": "wait_for", "selector": "#framed-table", "frame": ["#side-frame"]}]}
# the stem of each table a lobby run writes -> the catalogue table it shows
EXPECTED = {
    "lobby__wheel-red": LOBBY_WHEELS["red"], "lobby__wheel-blue": LOBBY_WHEELS["blue"],
    "lobby__wheel-Auto_Roulette": LOBBY_WHEELS["Auto Roulette"], "lobby__wheel-gold": LOBBY_WHEELS["gold"],
    "lobby__side": LOBBY_FRAMES["side"], "lobby__partner": LOBBY_FRAMES["deep"], "lobby__live": LOBBY_CANVAS,
}


def lobby_page(*tables: dict) -> Page:
    return Page.model_validate({"name": "lobby", "path": "/lobby", "tables": list(tables)})


# ---------------------------------------------------------------------------- config and naming

def test_frame_and_name_from_are_accepted(tmp_path):
    config = load_config(write(tmp_path, {"pages": [LOBBY]}))
    wheel, side, deep, _ = config.pages[0].tables
    assert wheel.is_group and wheel.name_from == "data-wheel" and wheel.min_count == 4 and wheel.frame == []
    assert side.frame == ["#side-frame"] and deep.frame == ["#outer-frame", "#inner-frame"] and not side.is_group
    assert config.pages[0].actions[0].frame == ["#side-frame"]


def test_the_readme_s_lobby_example_is_this_module_s_lobby(tmp_path):
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Frames and many boards", 1)[1]
    example = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert load_config(write(tmp_path, example)).pages[0] == load_config(write(tmp_path, {"pages": [LOBBY]})).pages[0]


@pytest.mark.parametrize("change, message", [
    ({"frame": ["#a", " "]}, r"pages.0.tables.0.frame: Value error, each frame step must be a non-empty CSS"),
    ({"frame": "#a"}, r"pages.0.tables.0.frame: Input should be a valid list"),
    ({"frame": [f"#f{i}" for i in range(6)]}, r"pages.0.tables.0.frame: .*at most 5 items"),
    ({"min_count": 3}, r"pages.0.tables.0: Value error, min_count counts the tables of a name_from spec"),
    ({"name_from": "data wheel"}, r"pages.0.tables.0.name_from: String should match pattern"),
    ({"name_from": "id", "min_count": 0}, r"pages.0.tables.0.min_count: Input should be greater than or equal to 1"),
    ({"member": "x"}, r"pages.0.tables.0.member: Extra inputs are not permitted"),
])
def test_bad_frame_and_name_from_keys_are_named(tmp_path, change, message):
    table = {**PAGES[0]["tables"][0], **change}
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, {"pages": [{**PAGES[0], "tables": [table]}]}))


def test_an_action_frame_is_validated_and_named_in_its_step():
    with pytest.raises(ValueError, match=r"frame\n  Value error, each frame step"):
        Page.model_validate({**LOBBY, "actions": [{"action": "click", "selector": "#a", "frame": [""]}]})


def test_member_names_are_sanitized_and_made_unique_in_document_order():
    raw = ["red", "Auto Roulette", "red", "", "  ", "x" * 80, "côté/7"]
    assert member_names(raw, "wheel", taken=["wheel-blue"]) == \
        ["red", "Auto_Roulette", "red-2", "4", "5", "x" * 64, "c_t_7"]
    assert member_names(["blue", "blue"], "wheel", taken=["wheel-blue"]) == ["blue-2", "blue-3"]
    assert member_names(["a", "b"], "w") == member_names(["a", "b"], "w")  # the same page: the same names


def test_an_expanded_spec_replaces_itself_in_pending_and_total_and_a_retry_skips_what_is_done(tmp_path):
    page = lobby_page(WHEELS, LIVE)
    run = RunRecord("r1", utc_now(), tmp_path / "r1", [page], Ledger.in_folder(tmp_path), attempts=2, sinks=[],
                    on_progress=None, files={})
    assert run.total == 2 and [t.name for t in run.pending(page)] == ["wheel", "live"]
    members = [page.tables[0].expanded(m) for m in ("red", "blue", "gold")]
    run.expand(page, page.tables[0], members)
    assert run.total == 4 and [t.name for t in run.pending(page)] == ["wheel-red", "wheel-blue", "wheel-gold", "live"]
    run.add(Failure("TableNotReady", "x", 8, "lobby", "wheel-red"))
    assert [t.name for t in run.pending(page)] == ["wheel-blue", "wheel-gold", "live"]  # what a retry would do
    assert [t.member for t in run.pending(page)][:2] == ["blue", "gold"]
    assert run.done == 1 and run.total == 4


# ---------------------------------------------------------------------------- the demo lobby (Flask test client)

@pytest.fixture
def client():
    client = create_app(7, "robot", "pw", session_seconds=60).test_client()
    assert client.post("/login", data={"username": "robot", "password": "pw"}).status_code == 302
    return client


@pytest.mark.parametrize("path", ["/lobby", "/lobby/frame/side", "/lobby/frame/outer", "/lobby/late.png"])
def test_the_lobby_is_behind_the_login(path):
    response = create_app(7, "robot", "pw", session_seconds=60).test_client().get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_the_lobby_shows_its_boards_by_name_and_frames_and_the_late_image_comes_late(client):
    html = client.get("/lobby").get_data(as_text=True)
    assert [part.split('"')[0] for part in html.split('data-wheel="')[1:]] == list(LOBBY_WHEELS)
    assert 'id="side-frame"' in html and 'id="outer-frame"' in html and 'id="late-canvas"' in html
    assert 'id="inner-frame"' in client.get("/lobby/frame/outer").get_data(as_text=True)
    assert 'data-truth="roulette/small"' in client.get("/lobby/frame/side").get_data(as_text=True)
    assert client.get("/lobby/frame/nope").status_code == 404
    started = time.monotonic()
    late = client.get("/lobby/late.png")
    assert time.monotonic() - started >= LATE_IMAGE_MS / 1000 - 0.05
    assert late.data == client.get("/img/{}/{}.png".format(*LOBBY_CANVAS)).data


# ---------------------------------------------------------------------------- real browser

@pytest.fixture(scope="module")
def site(module_chromium, module_demo_site):
    server, password = module_demo_site
    login(module_chromium, server.url, Login(), "robot", password, timeout=WAIT_S)
    return module_chromium, server.url, server


def open_lobby(site):
    driver, base, _ = site
    navigate(driver, page_url(base, "/lobby"))
    return driver, time.monotonic()


def same_pixels_as_served(site, png: bytes, page: str, table: str) -> None:
    """The capture is the catalogue table's image itself (CSS size = image size, scale factor 1)."""
    driver, base, _ = site
    served = driver.execute_async_script("""
        const [url, done] = arguments;
        fetch(url).then(r => r.arrayBuffer()).then(b => done(Array.from(new Uint8Array(b))));""",
                                         page_url(base, f"/img/{page}/{table}.png"))
    assert (decode_png(png) == decode_png(bytes(served))).all(), (page, table)


@pytest.mark.parametrize("table", [SIDE, DEEP], ids=["one-frame", "two-frames"])
def test_a_table_inside_frames_is_captured_and_the_driver_is_back_at_the_top(site, table):
    driver, _ = open_lobby(site)
    page = lobby_page(table)
    png = capture_table(driver, page, page.tables[0], timeout=WAIT_S)
    same_pixels_as_served(site, png, *LOBBY_FRAMES["side" if table is SIDE else "deep"])
    assert driver.find_elements(By.ID, "late-canvas"), "not switched back to the top document"


def test_a_missing_frame_names_the_frame_step_and_the_key(site):
    driver, _ = open_lobby(site)
    page = lobby_page({**DEEP, "frame": ["#outer-frame", "#no-such-frame"]})
    with pytest.raises(TableNotFound, match=r"^timed out after 0.5 s waiting for frame 2 of 2 of table lobby/partner "
                                            r"\(selector '#no-such-frame'\) on .*/lobby; check pages\[lobby\]"
                                            r"\.tables\[partner\]\.frame in config.yaml \(#outer-frame > #no-such-frame; "
                                            r"one <iframe> selector per level, outermost first\)$"):
        capture_table(driver, page, page.tables[0], timeout=0.5)
    not_a_frame = lobby_page({**SIDE, "frame": ["#late-canvas"]})
    with pytest.raises(TableNotFound, match=r"frame 1 of 1 of table lobby/side \('#late-canvas'\) matches a "
                                            r"<canvas>, not an <iframe>"):
        capture_table(driver, not_a_frame, not_a_frame.tables[0], timeout=0.5)
    assert driver.find_elements(By.ID, "late-canvas")
    missing, where = lobby_page({**SIDE, "selector": "#nope"}), []
    with pytest.raises(TableNotFound, match=r"waiting for table lobby/side \(selector '#nope'\)"):
        capture_table(driver, missing, missing.tables[0], timeout=0.3,
                      on_missing=lambda d: where.append(d.execute_script("return location.pathname;")))
    assert where == ["/lobby/frame/side"]  # the session check looks where the table is
    step = Page.model_validate({**LOBBY, "actions": [
        {"action": "click", "selector": "#framed-table", "frame": ["#outer-frame", "#nope"], "timeout_s": 0.3}]})
    with pytest.raises(ActionFailed, match=r"^page lobby, step 1 \(click #framed-table in frame #outer-frame > #nope\)"
                                           r": timed out after 0.3 s waiting for frame 2 of 2 of the step "
                                           r"\(selector '#nope'\)"):
        run_actions(driver, step.name, step.actions, timeout=WAIT_S)


def test_a_frame_is_scrolled_into_view_and_what_covers_its_table_inside_is_named(site):
    driver, _ = open_lobby(site)
    driver.execute_script("window.scrollTo(0, 0);")
    page = lobby_page(DEEP)
    # inside the inner frame, a banner over the board's lower part
    driver.switch_to.frame(driver.find_element(By.ID, "outer-frame"))
    driver.switch_to.frame(driver.find_element(By.ID, "inner-frame"))
    driver.execute_script("""const b = document.createElement('div'); b.id = 'frame-banner';
        b.style.cssText = 'position: fixed; left: 0; right: 0; bottom: 0; height: 50%; background: #223';
        document.body.appendChild(b);""")
    driver.switch_to.default_content()
    with pytest.raises(TableNotFound, match=r"^div#frame-banner covers the lower \d+% of table lobby/partner"):
        capture_table(driver, page, page.tables[0], timeout=0.6)
    top = driver.execute_script("return document.getElementById('outer-frame').getBoundingClientRect().top;")
    assert 0 <= top < driver.execute_script("return innerHeight;")  # scrolled to the frame


def test_what_covers_the_frame_itself_is_named(site):
    driver, _ = open_lobby(site)
    driver.execute_script("""const b = document.createElement('div'); b.id = 'cookie-banner';
        b.style.cssText = 'position: fixed; inset: 0; z-index: 9; background: rgba(0, 0, 0, 0.8)';
        document.body.appendChild(b);""")
    page = lobby_page(SIDE)
    with pytest.raises(TableNotReady, match=r"^div#cookie-banner covers all of frame 1 of 1 of table lobby/side "
                                            r"\(still so after 0.5 s"):
        capture_table(driver, page, page.tables[0], timeout=0.5)
    driver.execute_script("document.getElementById('cookie-banner').remove();")
    same_pixels_as_served(site, capture_table(driver, page, page.tables[0], timeout=WAIT_S), *LOBBY_FRAMES["side"])


def test_a_late_canvas_is_captured_only_once_drawn(site):
    driver, opened_at = open_lobby(site)
    canvas = driver.find_element(By.ID, "late-canvas")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
    assert snapshot(driver, canvas) == ["loaded", "@@what@@'s canvas is still blank"]
    png = wait_until_seen(driver, canvas, "#late-canvas", WAIT_S, "table lobby/live")
    assert time.monotonic() - opened_at >= LATE_IMAGE_MS / 1000 - 0.1
    same_pixels_as_served(site, png, *LOBBY_CANVAS)


def test_a_name_from_spec_that_matches_too_few_is_not_found(site):
    driver, _ = open_lobby(site)
    page = lobby_page({**WHEELS, "min_count": 5})
    with pytest.raises(TableNotFound, match=r"^only 4 element\(s\) match 'img.wheel-board' for table lobby/wheel, "
                                            r"fewer than its min_count 5 \(waited 0.5 s\); check pages\[lobby\]"
                                            r"\.tables\[wheel\]\.selector in config.yaml, or lower min_count$"):
        group_members(driver, page, page.tables[0], timeout=0.5)
    ghost = lobby_page({**WHEELS, "selector": "img.no-such", "min_count": None})
    with pytest.raises(TableNotFound, match=r"^timed out after 0.3 s waiting for at least 1 element\(s\) of table "
                                            r"lobby/wheel \(selector 'img.no-such'\) on .*; check pages\[lobby\]"
                                            r"\.tables\[wheel\]\.selector in config.yaml$"):
        group_members(driver, ghost, ghost.tables[0], timeout=0.3)
    for change, names in [({}, ["red", "blue", "Auto_Roulette", "gold"]), ({"name_from": "index"}, ["1", "2", "3", "4"]),
                          ({"name_from": "text", "selector": "figure.board"}, ["red", "blue", "Auto_Roulette", "gold"])]:
        four = lobby_page({**WHEELS, **change})
        members = group_members(driver, four, four.tables[0], timeout=WAIT_S)
        assert [t.name for t in members] == [f"wheel-{n}" for n in names] and [t.member for t in members] == names


def lobby_config(module_demo_site, write_config, monkeypatch, *, deduplicate: bool, tables=None) -> AppConfig:
    server, password = module_demo_site
    monkeypatch.setenv("ROBOT_USERNAME", "robot")
    monkeypatch.setenv("ROBOT_PASSWORD", password)
    page = {**LOBBY, "tables": tables or LOBBY["tables"]}
    return load_config(write_config({"target": {"kind": "url", "url": server.url}, "browser": {"wait_timeout_s": 4},
                                     "pages": [page], "output": {"deduplicate": deduplicate}}))


def test_a_lobby_run_writes_every_board_to_csv_with_the_true_values_and_the_same_names_next_time(
        module_demo_site, write_config, monkeypatch, model_reader):  # noqa: F811
    server, _ = module_demo_site
    config = lobby_config(module_demo_site, write_config, monkeypatch, deduplicate=True)
    progress = []
    first = run_once(config, parts=fake_parts(model_reader or FakeReader()), on_progress=progress.append)
    assert first.errors == () and [t.stem for t in first.tables] == list(EXPECTED)
    assert [(p.done, p.total) for p in progress] == [(i, 7) for i in range(1, 8)]
    summary = json.loads((first.folder / "run.json").read_text())
    assert summary["totals"]["tables"] == 7
    for stem, (page, table) in EXPECTED.items():
        assert (first.folder / f"{stem}.csv").is_file()
        if model_reader is not None:
            assert read_grid(RunTable(Path(first.folder), stem)) == server.truth(page, table), stem

    again = run_once(config, parts=fake_parts(model_reader or FakeReader()))
    assert again.tables == () and again.errors == ()
    assert [(u.stem, u.same_as_run) for u in again.unchanged] == [(stem, first.run_id) for stem in EXPECTED]


def test_one_board_that_fails_fails_alone(module_demo_site, write_config, monkeypatch):
    lost = {**SIDE, "name": "lost", "frame": ["#no-such-frame"]}
    config = lobby_config(module_demo_site, write_config, monkeypatch, deduplicate=False,
                          tables=[WHEELS, lost, {**WHEELS, "name": "ghost", "selector": "img.nope", "min_count": None}])
    result = run_once(config, parts=fake_parts(FakeReader()))
    assert [t.stem for t in result.tables] == [s for s in EXPECTED if s.startswith("lobby__wheel-")]
    assert [(f.where, f.error) for f in result.errors] == [("lobby/lost", "TableNotFound"),
                                                           ("lobby/ghost", "TableNotFound")]
    assert "frame 1 of 1 of table lobby/lost" in result.errors[0].message


class FlakyReader(FakeReader):
    """Fails the page once, as a site error would, after reading `after` tables."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after

    def read(self, image, shape=None, source: str = ""):
        if len(self.calls) == self.after:
            self.calls.append("(failed)")
            raise PageLoadFailed("the site answered HTTP 503 (a test's)")
        return super().read(image, shape, source)


def test_a_retried_lobby_captures_only_the_boards_not_done_yet(module_demo_site, write_config, monkeypatch):
    config = lobby_config(module_demo_site, write_config, monkeypatch, deduplicate=False, tables=[WHEELS, SIDE])
    config = config.model_copy(update={"retry": config.retry.model_copy(update={"backoff_s": 0.0})})
    reader = FlakyReader(after=2)  # red and blue read, the page fails on Auto Roulette
    result = run_once(config, parts=fake_parts(reader))
    assert result.errors == ()
    stems = [s for s in EXPECTED if s.startswith("lobby__wheel-")] + ["lobby__side"]
    assert [t.stem for t in result.tables] == stems
    assert [c.rsplit("/", 1)[-1] for c in reader.calls] == stems[:2] + ["(failed)"] + stems[2:]
