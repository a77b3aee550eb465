"""The bundled demo site: rendering, the seeded catalogue, login/session rules, faults, the server.

Flask's test client for the app; one e2e test drives real headless Chromium against DemoServer.
"""
from __future__ import annotations

import dataclasses
import io
import json
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robot.demo import render
from robot.demo.app import LOGIN_ERROR, create_app
from robot.demo.render import (
    Align,
    Style,
    TableLook,
    check_fits,
    demo_fonts,
    render_table,
    table_geometry,
    text_extent,
)
from robot.demo.server import DemoServer, DemoServerError
from robot.demo.site import MAIN_SHAPE, SMALL_SHAPE, build_catalogue
from tablebot.errors import ConfigError, DataError

USER, PASSWORD = "alice", "correct horse"
PAGES = ["light", "dark", "roulette", "zebra"]
TABLES = [("light", "main"), ("dark", "main"), ("roulette", "main"), ("roulette", "small"), ("zebra", "main")]


class Clock:
    """A settable clock for session ages (the app's own seam, not a mock)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def fonts() -> list[Path]:
    return demo_fonts()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock):
    return create_app(7, USER, PASSWORD, session_seconds=60, expose_truth=True, clock=clock)


@pytest.fixture
def client(app):
    client = app.test_client()
    assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 302
    return client


def decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


# ---------------------------------------------------------------------------- render

def test_demo_fonts_are_real_font_files(fonts):
    assert fonts and all(p.is_file() and p.suffix == ".ttf" for p in fonts)
    assert len(set(p.name for p in fonts)) == len(fonts)


def test_demo_fonts_says_what_to_install_when_none_exist(monkeypatch, tmp_path):
    monkeypatch.setattr(render, "SYSTEM_FONT_DIRS", (tmp_path,))
    monkeypatch.setattr(render, "matplotlib_font_dir", lambda: None)
    with pytest.raises(DataError, match="fonts-dejavu-core"):
        demo_fonts()


@pytest.mark.parametrize("style", list(Style))
def test_render_size_matches_geometry_and_empty_cells_are_blank(style, fonts):
    look = TableLook(style, fonts[0], font_px=16, cell_w=36, cell_h=26, grid_px=2, corner_px=4)
    values = [[(r * 5 + c) % 37 for c in range(5)] for r in range(3)]
    values[2][4] = None
    image = render_table(values, look)
    geo = table_geometry(3, 5, look)
    assert image.dtype == np.uint8 and image.shape == (geo.height, geo.width, 3)
    assert geo.width == 5 * 36 + 6 * 2 and geo.height == 3 * 26 + 4 * 2
    x0, y0, x1, y1 = geo.boxes[2][4]
    empty, full = image[y0:y1, x0:x1], image[slice(*geo.boxes[2][3][1::2]), slice(*geo.boxes[2][3][0::2])]
    inner = (slice(4, -4), slice(4, -4))  # away from the rounded corners
    assert len(np.unique(empty[inner].reshape(-1, 3), axis=0)) == 1  # no ink
    assert len(np.unique(full[inner].reshape(-1, 3), axis=0)) > 2  # anti-aliased digits


def test_roulette_colours_follow_the_wheel(fonts):
    look = TableLook(Style.ROULETTE, fonts[0], font_px=14, cell_w=34, cell_h=26, grid_px=3, corner_px=5)
    image = render_table([[0, 1, 2]], look)  # green, red, black
    geo = table_geometry(1, 3, look)
    b, g, r = (image[y0 + 3, x0 + (x1 - x0) // 2].astype(int) for x0, y0, x1, y1 in geo.boxes[0])
    assert b[1] > b[0] + 60 and b[1] > b[2] + 60  # 0: green (BGR)
    assert g[2] > g[0] + 100 and g[2] > g[1] + 100  # 1: red
    assert r.max() < 60  # 2: black
    assert tuple(image[0, 0]) == render.PALETTES[Style.ROULETTE].background[::-1]  # gap, no line


def test_zebra_rows_alternate_without_lines(fonts):
    look = TableLook(Style.ZEBRA, fonts[0], font_px=14, cell_w=34, cell_h=24, grid_px=0)
    image = render_table([[None] * 3] * 4, look)
    rows = [tuple(image[r * 24 + 12, 1]) for r in range(4)]
    assert rows[0] == rows[2] != rows[1] == rows[3]
    assert len(np.unique(image[:24].reshape(-1, 3), axis=0)) == 1  # one stripe: no grid lines


@pytest.mark.parametrize("align", list(Align))
def test_text_never_touches_a_cell_edge(align, fonts):
    """Every number, every demo font, the smallest size, cells as tight as check_fits allows."""
    for font in fonts:
        probe = TableLook(Style.LIGHT, font, font_px=12, align=align, pad_px=3)
        text_w, text_h = text_extent(probe)
        look = dataclasses.replace(probe, cell_w=text_w + 2 * 3, cell_h=text_h + 2 * render.MIN_TEXT_PAD_PX)
        check_fits(look)
        values = [list(range(0, 19)), [*range(19, 37), None]]
        image = render_table(values, look)
        geo = table_geometry(2, 19, look)
        for r, row in enumerate(geo.boxes):
            for c, (x0, y0, x1, y1) in enumerate(row):
                cell = image[y0:y1, x0:x1]
                ring = np.concatenate([cell[0], cell[-1], cell[:, 0], cell[:, -1]])
                assert (ring == 255).all(), (font.name, align, values[r][c])
                if values[r][c] is not None:
                    assert (cell < 128).any(), (font.name, values[r][c])  # something was drawn


def test_too_small_cells_are_refused(fonts):
    with pytest.raises(ValueError, match="too small"):
        render_table([[36]], TableLook(Style.LIGHT, fonts[0], font_px=24, cell_w=20, cell_h=20))


@pytest.mark.parametrize("bad", [[[37]], [[-1]], [[True]], [[1.5]], [[1, 2], [3]], [], [[]]])
def test_render_refuses_bad_values(bad, fonts):
    with pytest.raises(ValueError):
        render_table(bad, TableLook(Style.LIGHT, fonts[0]))


def test_scale_two_doubles_every_length(fonts):
    look = TableLook(Style.LIGHT, fonts[0], font_px=14, cell_w=30, cell_h=22, grid_px=1)
    one, two = table_geometry(8, 15, look), table_geometry(8, 15, dataclasses.replace(look, scale=2.0))
    assert (two.width, two.height) == (2 * one.width, 2 * one.height)
    assert render_table([[5, 36]], dataclasses.replace(look, scale=2.0)).shape[:2] == (2 * (22 + 2), 2 * (2 * 30 + 3))


def test_rendering_an_8x15_table_is_fast(fonts):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 37, size=MAIN_SHAPE).tolist()
    for style in Style:
        look = TableLook(style, fonts[0], font_px=18, cell_w=40, cell_h=30, grid_px=2, corner_px=5)
        render_table(values, look)  # warm the font cache
        best = min(_timed(lambda: render_table(values, look)) for _ in range(5))
        assert best < 0.05, (style, best)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------- catalogue

def test_catalogue_layout_and_readable_looks():
    pages = build_catalogue(7)
    assert list(pages) == PAGES
    assert [(p, t.name) for p, page in pages.items() for t in page.tables] == TABLES
    for page in pages.values():
        assert page.path == f"/tables/{page.name}"
        for table in page.tables:
            shape = SMALL_SHAPE if table.name == "small" else MAIN_SHAPE
            assert (table.rows, table.cols) == shape and all(len(r) == shape[1] for r in table.values)
            assert all(v is None or 0 <= v <= 36 for row in table.values for v in row)
            assert 12 <= table.look.font_px <= 24 and table.look.style.value == page.name
            check_fits(table.look)
            check_fits(dataclasses.replace(table.look, scale=2.0))
    zebra_last = pages["zebra"].table("main").values[-1]
    assert zebra_last[-1] is None and zebra_last[0] is not None  # history not full yet
    assert all(v is not None for v in pages["light"].table("main").values_list()[0])


def test_catalogue_is_deterministic_and_seeded():
    a, b, c = build_catalogue(7), build_catalogue(7), build_catalogue(8)
    assert a == b
    assert all(a[p].table(t).values != c[p].table(t).values for p, t in TABLES)
    all_values = [v for p, t in TABLES for row in a[p].table(t).values for v in row if v is not None]
    assert len(set(all_values)) == 37  # 500+ draws cover every class


def test_values_do_not_depend_on_the_fonts_found(fonts):
    few = build_catalogue(7, fonts=fonts[-1:])
    assert all(few[p].table(t).values == build_catalogue(7)[p].table(t).values for p, t in TABLES)


# ---------------------------------------------------------------------------- login and sessions

def test_login_ok_redirects_and_pages_show_logout(app):
    client = app.test_client()
    response = client.post("/login", data={"username": USER, "password": PASSWORD, "next": "/tables/dark"})
    assert response.status_code == 302 and response.headers["Location"] == "/tables/dark"
    page = client.get("/tables/dark")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<a id="logout" href="/logout">' in html and 'id="table-main"' in html
    index = client.get("/").get_data(as_text=True)
    assert all(f'href="/tables/{name}"' in index for name in PAGES) and 'id="logout"' in index


@pytest.mark.parametrize("user, password", [(USER, "wrong"), ("bob", PASSWORD), ("", ""), (USER, PASSWORD + "x")])
def test_wrong_credentials_get_401_and_the_error_element(app, user, password):
    client = app.test_client()
    response = client.post("/login", data={"username": user, "password": password})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'class="login-error"' in html and LOGIN_ERROR in html
    assert 'name="username"' in html and 'name="password"' in html and 'type="submit"' in html
    if password:
        assert password not in html  # never echoed back
    assert client.get("/tables/light").status_code == 302


def test_login_form_has_the_fields_the_robot_uses(app):
    html = app.test_client().get("/login").get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html and '<button type="submit"' in html
    assert "login-error" not in html and 'id="logout"' not in html


@pytest.mark.parametrize("path", ["/", "/tables/light", "/img/light/main.png", "/tables/roulette"])
def test_protected_paths_redirect_to_login(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sessions_expire_after_session_seconds(client, clock):
    clock.now += 59
    assert client.get("/tables/light").status_code == 200
    clock.now += 2
    response = client.get("/tables/light")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_ends_the_session(client):
    assert client.get("/logout").status_code == 302
    assert client.get("/tables/light").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(app, target):
    response = app.test_client().post("/login", data={"username": USER, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"


def test_each_app_signs_sessions_with_its_own_key(client):
    other = create_app(7, USER, PASSWORD, session_seconds=60).test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    assert other.get("/tables/light").status_code == 302


def test_app_needs_credentials():
    with pytest.raises(ConfigError, match="ROBOT_USERNAME"):
        create_app(7, "", "", session_seconds=60)


# ---------------------------------------------------------------------------- images and truth

@pytest.mark.parametrize("page, table", TABLES)
def test_images_are_pngs_of_the_rendered_table(client, app, page, table):
    spec = app.extensions["demo_catalogue"][page].table(table)
    geo = table_geometry(spec.rows, spec.cols, spec.look)
    response = client.get(f"/img/{page}/{table}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    image = decode(response.data)
    assert image.shape == (geo.height, geo.width, 3)
    assert np.array_equal(image, render_table(spec.values, spec.look)[:, :, ::-1])
    double = decode(client.get(f"/img/{page}/{table}.png?scale=2").data)
    assert double.shape == (2 * geo.height, 2 * geo.width, 3)
    html = client.get(f"/tables/{page}").get_data(as_text=True)
    assert f'width="{geo.width}" height="{geo.height}"' in html


def test_unknown_images_and_scales_are_404(client):
    assert client.get("/img/light/small.png").status_code == 404
    assert client.get("/img/nope/main.png").status_code == 404
    assert client.get("/img/light/main.png?scale=3").status_code == 404
    assert client.get("/tables/nope").status_code == 404


def test_same_seed_same_png_bytes_other_seed_other_values():
    def png(seed: int) -> bytes:
        app = create_app(seed, USER, PASSWORD, session_seconds=60)
        client = app.test_client()
        client.post("/login", data={"username": USER, "password": PASSWORD})
        return client.get("/img/roulette/main.png").data

    assert png(7) == png(7)
    assert png(7) != png(8)


def test_numbers_are_not_in_the_dom(client, app):
    for page in PAGES:
        html = client.get(f"/tables/{page}").get_data(as_text=True)
        assert "<table" not in html and "<td" not in html
        for spec in app.extensions["demo_catalogue"][page].tables:
            row = " ".join(str(v) for v in spec.values[0])
            assert row not in html
        alts = [part.split('"')[0] for part in html.split('alt="')[1:]]
        assert alts and not any(ch.isdigit() for alt in alts for ch in alt)


def test_truth_endpoint(client, app):
    body = client.get("/api/truth/zebra/main").get_json()
    spec = app.extensions["demo_catalogue"]["zebra"].table("main")
    assert body == {"rows": 8, "cols": 15, "values": spec.values_list()}
    assert body["values"][-1][-1] is None
    assert client.get("/api/truth/zebra/small").status_code == 404


def test_truth_and_faults_are_hidden_unless_enabled():
    client = create_app(7, USER, PASSWORD, session_seconds=60).test_client()
    client.post("/login", data={"username": USER, "password": PASSWORD})
    assert client.get("/api/truth/light/main").status_code == 404
    assert client.post("/api/faults", json={"action": "clear"}).status_code in (404, 405)


# ---------------------------------------------------------------------------- faults

@pytest.fixture
def faults(app):
    return app.extensions["demo_faults"]


def test_fault_slow(client, faults):
    faults.slow("light", 0.3)
    assert _timed(lambda: client.get("/tables/light")) >= 0.3
    assert _timed(lambda: client.get("/tables/dark")) < 0.3
    faults.slow("light", 0)
    assert _timed(lambda: client.get("/tables/light")) < 0.3


def test_fault_http_error_counts_down(client, faults):
    faults.http_error("light", status=503, times=2)
    assert [client.get("/tables/light").status_code for _ in range(3)] == [503, 503, 200]
    assert client.get("/img/light/main.png").status_code == 200  # images are not the page


def test_fault_http_error_on_the_login_form(app, faults):
    faults.http_error("login", status=500)
    client = app.test_client()
    assert client.get("/login").status_code == 500
    assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 302


def test_fault_expire_sessions(client, app, faults):
    faults.expire_sessions()
    assert client.get("/tables/light").status_code == 302
    fresh = app.test_client()
    fresh.post("/login", data={"username": USER, "password": PASSWORD})
    assert fresh.get("/tables/light").status_code == 200  # new logins work again


def test_fault_drop_and_rename_table(client, faults):
    faults.drop_table("roulette", "main")
    faults.rename_table("roulette", "small", "history-small")
    html = client.get("/tables/roulette").get_data(as_text=True)
    assert 'id="table-main"' not in html and 'id="table-small"' not in html and 'id="history-small"' in html
    assert 'id="table-main"' in client.get("/tables/light").get_data(as_text=True)
    faults.clear()
    html = client.get("/tables/roulette").get_data(as_text=True)
    assert 'id="table-main"' in html and 'id="table-small"' in html


def test_faults_refuse_unknown_targets(faults):
    with pytest.raises(ValueError, match="unknown page"):
        faults.slow("nope", 1)
    with pytest.raises(ValueError, match="unknown table"):
        faults.drop_table("light", "small")
    with pytest.raises(ValueError, match="plain HTML id"):
        faults.rename_table("light", "main", "a b")
    with pytest.raises(ValueError, match="status"):
        faults.http_error("light", status=200)


def test_faults_over_http(client):
    ok = client.post("/api/faults", json={"action": "http_error", "page": "dark", "status": 502, "times": 1})
    assert ok.status_code == 200 and ok.get_json() == {"ok": True}
    assert client.get("/tables/dark").status_code == 502
    assert client.post("/api/faults", json={"action": "drop_table", "page": "zebra", "table": "main"}).status_code == 200
    assert 'id="table-main"' not in client.get("/tables/zebra").get_data(as_text=True)
    assert client.post("/api/faults", json={"action": "expire_sessions"}).status_code == 200
    assert client.get("/tables/zebra").status_code == 302
    for bad in ({"action": "explode"}, {"action": "slow", "page": "light"}, {"action": "slow", "page": "x", "seconds": 1}):
        response = client.post("/api/faults", json=bad)
        assert response.status_code == 400 and response.get_json()["ok"] is False, bad
    assert client.post("/api/faults", data="not json").status_code == 400


# ---------------------------------------------------------------------------- server and CLI

def test_demo_server_serves_over_http_and_stops():
    with DemoServer(seed=7, username=USER, password=PASSWORD, expose_truth=True) as server:
        assert server.url.startswith("http://127.0.0.1:")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        data = f"username={USER}&password=correct+horse".encode()
        assert "logout" in opener.open(server.url + "/login", data=data, timeout=10).read().decode()
        png = opener.open(server.url + "/img/dark/main.png", timeout=10).read()
        assert decode(png).shape[:2][::-1] == _size(server, "dark", "main")
        with urllib.request.urlopen(server.url + "/api/truth/dark/main", timeout=10) as response:
            assert json.load(response)["values"] == server.truth("dark", "main")
        port = int(server.url.rsplit(":", 1)[1])
        thread = server._thread
    assert thread is not None and not thread.is_alive()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    server.stop()  # twice is fine


def _size(server: DemoServer, page: str, table: str) -> tuple[int, int]:
    spec = server.pages[page].table(table)
    geo = table_geometry(spec.rows, spec.cols, spec.look)
    return geo.width, geo.height


def test_demo_server_reports_a_taken_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DemoServer(username=USER, password=PASSWORD, port=taken.getsockname()[1])
        with pytest.raises(DemoServerError, match="choose another port"):
            server.start()


def test_truth_without_starting_and_unknown_names():
    server = DemoServer(username=USER, password=PASSWORD, seed=7)
    assert server.truth("light", "main") == build_catalogue(7)["light"].table("main").values_list()
    with pytest.raises(KeyError):
        server.truth("nope", "main")
    with pytest.raises(RuntimeError, match="not running"):
        server.url


def test_cli_asks_for_the_credential_variables(monkeypatch):
    from click.testing import CliRunner

    from robot.cli import cli

    monkeypatch.delenv("ROBOT_USERNAME", raising=False)
    monkeypatch.delenv("ROBOT_PASSWORD", raising=False)
    result = CliRunner().invoke(cli, ["demo-site", "--port", "0"])
    assert isinstance(result.exception, ConfigError)
    assert "ROBOT_USERNAME" in str(result.exception) and "ROBOT_PASSWORD" in str(result.exception)


# ---------------------------------------------------------------------------- real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def chromium():
    if not CHROMIUM or not Path(CHROMEDRIVER).exists():
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.TemporaryDirectory(prefix="demo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                "--force-device-scale-factor=1", f"--user-data-dir={profile.name}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.mark.e2e
def test_chromium_logs_in_and_captures_the_tables(chromium, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, 10)
    with DemoServer(seed=7, username=USER, password=PASSWORD) as server:
        chromium.get(server.url + "/tables/roulette")
        assert "/login" in chromium.current_url  # not logged in yet
        chromium.find_element(By.CSS_SELECTOR, "input[name=username]").send_keys(USER)
        chromium.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("wrong")
        chromium.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".login-error"))).text == LOGIN_ERROR
        chromium.find_element(By.CSS_SELECTOR, "input[name=username]").clear()
        chromium.find_element(By.CSS_SELECTOR, "input[name=username]").send_keys(USER)
        chromium.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(PASSWORD)
        chromium.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.url_to_be(server.url + "/tables/roulette"))  # back where it was sent from
        assert chromium.find_elements(By.ID, "logout")
        for page, table in TABLES:
            if chromium.current_url != server.url + f"/tables/{page}":
                chromium.get(server.url + f"/tables/{page}")
            element = chromium.find_element(By.ID, f"table-{table}")
            shot = decode(element.screenshot_as_png)
            expected = render_table(server.pages[page].table(table).values, server.pages[page].table(table).look)
            height, width = shot.shape[:2]
            assert abs(width - expected.shape[1]) <= 2 and abs(height - expected.shape[0]) <= 2, (page, table)
            h, w = min(height, expected.shape[0]), min(width, expected.shape[1])
            diff = np.abs(shot[:h, :w].astype(int) - expected[:h, :w, ::-1].astype(int)).mean()
            assert diff < 8, (page, table, diff)  # the same picture, not a broken-image icon
            if table == "main":
                chromium.save_screenshot(str(tmp_path / f"{page}.png"))
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{p}.png" for p in PAGES)
