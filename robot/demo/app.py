"""The demo site as a Flask app: a login, four pages of table images, a tricky page, a lobby, a page of
HTML-cell tables, and optional test hooks.

On the table pages the numbers are never in the DOM: each table is a PNG served (after login) from
`/img/<page>/<table>.png`, with a 2x variant for high-density screens. `/tricky` shows three
of those tables as a person would see them only after a while (fading in, under a loading overlay,
under a cookie banner), for the robot's readiness checks, and one behind a "History" tab (with, on
`?consent=ask`, a cookie-consent dialog to accept first), for its page actions. `/lobby` shows many
boards under one selector (for `name_from`), boards inside one and two levels of `<iframe>` (for
`frame`), and a canvas drawn after a slow fetch (for readiness). `/cells` shows two tables made of
HTML cells (a `<table>` of number images, a CSS grid of chips), for cell boxes read from the page. With
`expose_truth=True` the app also answers `GET /api/truth/<page>/<table>` and
`POST /api/faults`, for tests only.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hmac
import io
import logging
import secrets
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from PIL import Image

from recognizer.labels import RED_NUMBERS
from robot.demo.faults import LOGIN_PAGE, Faults
from robot.demo.render import render_table, table_geometry
from robot.demo.site import DemoTable, PageSpec, build_catalogue
from tablebot.errors import ConfigError

log = logging.getLogger(__name__)

FAULTS_KEY = "demo_faults"
CATALOGUE_KEY = "demo_catalogue"
LOGIN_ERROR = "Wrong user name or password"
IMAGE_SCALES = {"1": 1.0, "2": 2.0}  # ?scale= values served; 2 feeds srcset's 2x
TABLE_CAPTIONS = {"main": "Spin history", "small": "Latest spins"}
# /tricky: element id -> (page, table, CSS scale) of the catalogue table it shows (its truth is that table's).
TRICKY_TABLES = {
    "fade-table": ("light", "main", 1.0),  # fades in: an opacity transition that starts FADE_AT after load
    "overlay-table": ("dark", "main", 1.0),  # under a "Loading..." overlay removed OVERLAY_GONE after load
    "banner-table": ("zebra", "main", 2.0),  # tall; a fixed cookie banner covers its lower part until BANNER_GONE
    "history-table": ("roulette", "main", 1.0),  # behind a tab: display:none until the "History" button is clicked
}
# /cells: tables made of HTML cells, each showing a catalogue table's values (its truth is that table's).
CELLS_TABLE = ("dark", "main")  # an HTML <table>: a header row and column of words (<th>), a number <img> per cell
CHIPS_TABLE = ("roulette", "small")  # a CSS grid of round chips, the number as text, laid out column by column
ROW_WORDS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett")
CHIP_PX = 40  # chip diameter, CSS px
TRICKY_TIMINGS_MS = {"fade_at": 1500, "fade_for": 400, "overlay_gone": 1000, "banner_gone": 1500}
# /lobby: boards sharing the selector `img.wheel-board`, by their data-wheel -> (page, table) of the catalogue
# table each shows (its truth is that table's); one name has a space, which a table name cannot hold.
LOBBY_WHEELS = {"red": ("light", "main"), "blue": ("dark", "main"), "Auto Roulette": ("roulette", "main"),
                "gold": ("zebra", "main")}
# /lobby/frame/<slot>: the board shown as `img#framed-table` in a framed page. /lobby shows "side" in
# iframe#side-frame, and "deep" two levels down: iframe#outer-frame > iframe#inner-frame.
LOBBY_FRAMES = {"side": ("roulette", "small"), "deep": ("light", "main")}
LOBBY_CANVAS = ("dark", "main")  # canvas#late-canvas: drawn once /lobby/late.png answers, LATE_IMAGE_MS late
LATE_IMAGE_MS = 1000
FRAME_MARGIN_PX = 24  # an iframe's size beyond its board's


def create_app(
    seed: int,
    username: str,
    password: str,
    session_seconds: float,
    expose_truth: bool = False,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """A fresh demo site. `clock` gives the session age; tests pass their own to expire sessions instantly."""
    if not username or not password:
        raise ConfigError("the demo site needs a non-empty user name and password (ROBOT_USERNAME / ROBOT_PASSWORD)")
    if session_seconds <= 0:
        raise ConfigError(f"session_seconds must be positive, got {session_seconds}")
    catalogue = build_catalogue(seed)
    faults = Faults(catalogue, [(p.name, t.name) for p in catalogue.values() for t in p.tables])

    app = Flask(__name__)
    # A new key per app: sessions never outlive the server that made them.
    app.secret_key = secrets.token_bytes(32)
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True)
    app.extensions[FAULTS_KEY] = faults
    app.extensions[CATALOGUE_KEY] = catalogue
    png_cache = _PngCache()
    expected = (username.encode(), password.encode())

    def logged_in() -> bool:
        login_at, generation = session.get("login_at"), session.get("generation")
        if not isinstance(login_at, (int, float)) or generation != faults.generation:
            return False
        return clock() - login_at <= session_seconds

    def protected(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if not logged_in():
                session.clear()
                return redirect(url_for("login", next=request.full_path.rstrip("?")))
            return view(*args, **kwargs)

        return wrapper

    def misbehave(page: str) -> Response | None:
        """Apply the faults switched on for `page`: delay first, then maybe an error response."""
        delay = faults.delay_for(page)
        if delay:
            time.sleep(delay)  # the fault itself: a slow server
        status = faults.take_error(page)
        if status is not None:
            return Response(f"demo fault: HTTP {status}", status=status, mimetype="text/plain")
        return None

    def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
        context.setdefault("title", "Spin Board")
        return render_template(template, pages=list(catalogue.values()), logged_in=logged_in(), **context), status

    @app.route("/login", methods=["GET", "POST"])
    def login():
        failed = misbehave(LOGIN_PAGE)
        if failed is not None:
            return failed
        next_path = _safe_next(request.values.get("next", ""))
        if request.method == "GET":
            return render("login.html", title="Sign in", error=None, next_path=next_path, username="")
        given_user = request.form.get("username", "")
        given = (given_user.encode(), request.form.get("password", "").encode())
        # Compare both fields every time, in constant time, so timing reveals neither.
        user_ok = hmac.compare_digest(given[0], expected[0])
        password_ok = hmac.compare_digest(given[1], expected[1])
        if not (user_ok and password_ok):
            log.info("demo login refused")  # no user name: in demo mode this is the robot's own log
            return render("login.html", 401, title="Sign in", error=LOGIN_ERROR, next_path=next_path, username=given_user)
        session.clear()
        session.update(login_at=clock(), generation=faults.generation)
        log.info("demo login")
        return redirect(next_path or url_for("index"))

    @app.route("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.route("/")
    @protected
    def index():
        return render("index.html", title="Result boards")

    @app.route("/tables/<name>")
    @protected
    def table_page(name: str):
        page = catalogue.get(name) or abort(404)
        failed = misbehave(page.name)
        if failed is not None:
            return failed
        tables = [_table_view(page, t, faults.element_id(page.name, t.name, t.element_id)) for t in page.tables]
        rendered = render("page.html", title=page.title, theme=page.name, page=page, tables=tables)
        faults.expire_after_served(page.name)
        return rendered

    @app.route("/tricky")
    @protected
    def tricky():
        """Tables a person sees only after a while: see `TRICKY_TABLES`. `?banner=stay` keeps the cookie
        banner for good (a table the robot must refuse, naming the banner)."""
        boards = []
        for element_id, (page_name, table_name, scale) in TRICKY_TABLES.items():
            view = _table_view(catalogue[page_name], catalogue[page_name].table(table_name), element_id)
            view.update(truth=f"{page_name}/{table_name}", width=round(view["width"] * scale),
                        height=round(view["height"] * scale))
            boards.append(view)
        return render("tricky.html", title="Tricky boards", tables={b["element_id"]: b for b in boards},
                      banner_stays=request.args.get("banner") == "stay", timings=TRICKY_TIMINGS_MS,
                      ask_consent=request.args.get("consent") == "ask")

    @app.route("/cells")
    @protected
    def cells():
        """Tables whose cells are HTML elements, for reading cell boxes from the page: see `CELLS_TABLE`,
        `CHIPS_TABLE`. Empty cells hold no image (no text)."""
        grid_page, grid_name = CELLS_TABLE
        grid = catalogue[grid_page].table(grid_name)

        def image(r: int, c: int, scale: float) -> str:
            return _data_uri(png_cache.get((grid_page, grid_name, r, c, scale), lambda: _cell_png(grid, r, c, scale)))

        images = {(r, c): (image(r, c, 1.0), image(r, c, 2.0))
                  for r, row in enumerate(grid.values) for c, v in enumerate(row) if v is not None}
        chips_page, chips_name = CHIPS_TABLE
        chips = catalogue[chips_page].table(chips_name)
        by_column = [(r, c, chips.values[r][c]) for c in range(chips.cols) for r in range(chips.rows)]
        return render("cells.html", title="HTML boards", grid=grid, grid_truth=f"{grid_page}/{grid_name}",
                      images=images, image_size=_image_size_of(1, 1, grid),
                      column_words=[f"Spin {chr(ord('A') + c)}" for c in range(grid.cols)], row_words=ROW_WORDS,
                      chips=chips, chips_truth=f"{chips_page}/{chips_name}", chips_by_column=by_column,
                      chip_px=CHIP_PX, red=RED_NUMBERS)

    @app.route("/lobby")
    @protected
    def lobby():
        """Many boards of one selector (`LOBBY_WHEELS`), framed boards (`LOBBY_FRAMES`: one frame deep and
        two) and a canvas drawn only after a slow fetch (`LOBBY_CANVAS`)."""
        wheels = []
        for wheel, (page_name, table_name) in LOBBY_WHEELS.items():
            view = _table_view(catalogue[page_name], catalogue[page_name].table(table_name), None)
            wheels.append({**view, "wheel": wheel, "truth": f"{page_name}/{table_name}"})
        page_name, table_name = LOBBY_CANVAS
        canvas = _table_view(catalogue[page_name], catalogue[page_name].table(table_name), "late-canvas")
        frames = {slot: _frame_size(catalogue[p].table(t)) for slot, (p, t) in LOBBY_FRAMES.items()}
        deep_w, deep_h = frames["deep"]
        frames["outer"] = (deep_w + FRAME_MARGIN_PX, deep_h + FRAME_MARGIN_PX)
        return render("lobby.html", title="Lobby", wheels=wheels, canvas={**canvas, "truth": "/".join(LOBBY_CANVAS)},
                      frames=frames)

    @app.route("/lobby/frame/<slot>")
    @protected
    def lobby_frame(slot: str):
        """A framed page: the board `LOBBY_FRAMES[slot]`, or ("outer") a page framing the "deep" one."""
        if slot == "outer":
            return render_template("lobby_frame.html", board=None, inner=_frame_size(
                catalogue[LOBBY_FRAMES["deep"][0]].table(LOBBY_FRAMES["deep"][1])))
        page_name, table_name = LOBBY_FRAMES.get(slot) or abort(404)
        view = _table_view(catalogue[page_name], catalogue[page_name].table(table_name), "framed-table")
        return render_template("lobby_frame.html", board={**view, "truth": f"{page_name}/{table_name}"}, inner=None)

    @app.route("/lobby/late.png")
    @protected
    def late_image():
        time.sleep(LATE_IMAGE_MS / 1000)  # the behaviour itself: a slow answer the page's canvas waits for
        page_name, table_name = LOBBY_CANVAS
        data = png_cache.get((page_name, table_name, 1.0), lambda: _png(_find(catalogue, page_name, table_name), 1.0))
        return Response(data, mimetype="image/png", headers={"Cache-Control": "no-store"})

    @app.route("/img/<name>/<table>.png")
    @protected
    def table_image(name: str, table: str):
        spec = _find(catalogue, name, table)
        scale = IMAGE_SCALES.get(request.args.get("scale", "1")) or abort(404)
        data = png_cache.get((name, table, scale), lambda: _png(spec, scale))
        response = Response(data, mimetype="image/png")
        response.headers["Cache-Control"] = "no-store"  # behind a login: never cached
        return response

    if expose_truth:

        @app.route("/api/truth/<name>/<table>")
        def truth(name: str, table: str):
            spec = _find(catalogue, name, table)
            return jsonify(rows=spec.rows, cols=spec.cols, values=spec.values_list())

        @app.route("/api/faults", methods=["POST"])
        def set_faults():
            try:
                faults.apply(request.get_json(force=True, silent=True))
            except ValueError as exc:
                return jsonify(ok=False, error=str(exc)), 400
            return jsonify(ok=True)

    return app


def _find(catalogue: dict[str, PageSpec], name: str, table: str) -> DemoTable:
    page = catalogue.get(name) or abort(404)
    try:
        return page.table(table)
    except KeyError:
        abort(404)


def _table_view(page: PageSpec, table: DemoTable, element_id: str | None) -> dict[str, Any]:
    """What page.html needs for one table; `element_id` None means the table is dropped by a fault."""
    src = url_for("table_image", name=page.name, table=table.name)
    width, height = _image_size(table)
    return {
        "element_id": element_id,
        "caption": TABLE_CAPTIONS.get(table.name, table.name),
        "src": src,
        "src_2x": f"{src}?scale=2",
        "width": width,
        "height": height,
    }


def _frame_size(table: DemoTable) -> tuple[int, int]:
    width, height = _image_size(table)
    return width + FRAME_MARGIN_PX, height + FRAME_MARGIN_PX


def _image_size(table: DemoTable) -> tuple[int, int]:
    return _image_size_of(table.rows, table.cols, table)


def _image_size_of(rows: int, cols: int, table: DemoTable) -> tuple[int, int]:
    """CSS px size of `rows` x `cols` cells drawn in `table`'s look."""
    geo = table_geometry(rows, cols, table.look)
    return geo.width, geo.height


def _png(table: DemoTable, scale: float) -> bytes:
    look = dataclasses.replace(table.look, scale=scale)
    bgr = render_table(table.values, look)
    buffer = io.BytesIO()
    Image.fromarray(bgr[:, :, ::-1]).save(buffer, format="PNG")
    return buffer.getvalue()


def _cell_png(table: DemoTable, row: int, col: int, scale: float) -> bytes:
    """One cell of `table` drawn alone in its look, as PNG."""
    look = dataclasses.replace(table.look, scale=scale)
    bgr = render_table([[table.values[row][col]]], look)
    buffer = io.BytesIO()
    Image.fromarray(bgr[:, :, ::-1]).save(buffer, format="PNG")
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _safe_next(target: str) -> str:
    """Only same-site paths: an open redirect would let a link send a user elsewhere after login."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or "\\" in target or parts.scheme or parts.netloc:
        return ""
    return target


class _PngCache:
    """Encoded images by (page, table, scale) or (page, table, row, col, scale); each is rendered once per app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple, bytes] = {}

    def get(self, key: tuple, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key not in self._data:
                self._data[key] = make()
            return self._data[key]
