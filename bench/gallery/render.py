"""Render the gallery in real headless Chromium: each variant's page, its `#board` element's screenshot,
saved as PNG or as JPEG the way people save pictures (OpenCV's encoder, default settings).

    .venv/bin/python -m bench.gallery.render [--per-look 8] [--seed 0] [--out bench/out/gallery] [--looks a,b]

writes `<out>/<look>/<n>.png|jpg` and `<out>/manifest.json` (truth, shape, headers, device pixel
ratio, format of every picture). The same seed gives the same tables; pixels follow Chromium and
the installed fonts.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.gallery.looks import BY_NAME, LOOKS, Look, Variant, page_html, variant
from recognizer.imageio import decode_png
from robot.browser.manage import open_browser
from robot.config import Browser
from tablebot.files import atomic_open, write_bytes_atomic

DEFAULT_OUT = Path("bench/out/gallery")
DPRS = (1.0, 1.25, 1.5, 2.0)
JPEG_QUALITIES = (50, 60, 75, 85, 95)
WINDOW = (2400, 1800)  # CSS px: wide enough for a 20-column board at 24 px text
# Fonts (DSEG, webfonts) must be in before the screenshot, and a page that draws its board with a script
# (a <canvas>) says when it is done with a promise, `window.galleryReady`.
FONTS_READY_JS = ("const done = arguments[arguments.length - 1]; "
                  "document.fonts.ready.then(() => window.galleryReady).then(() => done(true));")
# How far the board reaches beyond the viewport (CSS px): an element screenshot ends at the viewport.
OVERFLOW_JS = ("const r = arguments[0].getBoundingClientRect(); "
               "return [Math.ceil(r.right + scrollX) - innerWidth, Math.ceil(r.bottom + scrollY) - innerHeight];")

# Data cells whose number the page cuts short (a table squeezed into its box, `text-overflow: ellipsis`
# drawing "2…"): what no reader, person or program, can read from the picture. [[row, col], ...] of
# the last `cols` cells of each body row of a <table id=board>; other boards cut nothing.
CUT_CELLS_JS = ("const board = arguments[0], cols = arguments[1], cut = [];"
                "if (board.tagName !== 'TABLE' || !board.tBodies.length) return cut;"
                "Array.from(board.tBodies[0].rows).forEach((tr, r) => {"
                "  Array.from(tr.cells).slice(-cols).forEach((td, c) => {"
                "    if (td.scrollWidth > td.clientWidth + 1) cut.push([r, c]); }); });"
                "return cut;")


@dataclass(frozen=True)
class Picture:
    look: str
    file: str  # relative to the gallery folder
    values: list[list[int | None]]
    rows: int
    cols: int
    skip_rows: int
    skip_cols: int
    col_header: str
    row_header: str
    text_px: int
    dpr: float
    jpeg_quality: int | None  # None: PNG
    cut: list[list[int]] = field(default_factory=list)  # data cells the page cut short (CUT_CELLS_JS)


def plan(looks: list[Look], per_look: int, seed: int) -> list[tuple[Look, int, Variant, float, int | None]]:
    """What to render: (look, index, contents, device pixel ratio, JPEG quality or None)."""
    jobs = []
    for li, look in enumerate(looks):
        for k in range(per_look):
            rng = np.random.default_rng([seed, li, k])
            v = variant(look, rng)
            dpr = DPRS[k % len(DPRS)]
            quality = None if k % 2 == 0 else JPEG_QUALITIES[int(rng.integers(len(JPEG_QUALITIES)))]
            jobs.append((look, k, v, dpr, quality))
    return jobs


def render(looks: list[Look], per_look: int, seed: int, out: Path) -> list[Picture]:
    jobs = plan(looks, per_look, seed)
    pictures: list[Picture] = []
    with tempfile.TemporaryDirectory(prefix="tablebot-gallery-") as tmp:
        for dpr in DPRS:
            todo = [j for j in jobs if j[3] == dpr]
            if not todo:
                continue
            settings = Browser(device_scale_factor=dpr, window_width=WINDOW[0], window_height=WINDOW[1])
            with open_browser(settings) as driver:
                for look, k, v, _, quality in todo:
                    page = Path(tmp) / f"{look.name}-{k}.html"
                    page.write_text(page_html(look, v), encoding="utf-8")
                    driver.get(page.as_uri())
                    driver.execute_async_script(FONTS_READY_JS)
                    png, cut = board_png(driver, v.cols)
                    name = f"{look.name}/{k}.{'png' if quality is None else 'jpg'}"
                    if quality is None:
                        write_bytes_atomic(out / name, png)
                    else:
                        ok, jpg = cv2.imencode(".jpg", decode_png(png), [cv2.IMWRITE_JPEG_QUALITY, quality])
                        assert ok
                        write_bytes_atomic(out / name, jpg.tobytes())
                    pictures.append(Picture(look.name, name, [list(r) for r in v.values], v.rows, v.cols,
                                            v.skip_rows, v.skip_cols, v.col_header.value, v.row_header.value,
                                            v.text_px, dpr, quality, cut))
    pictures.sort(key=lambda p: (p.look, p.file))
    with atomic_open(out / "manifest.json") as stream:
        json.dump({"seed": seed, "per_look": per_look, "pictures": [asdict(p) for p in pictures]}, stream, indent=1)
    return pictures


def board_png(driver, cols: int) -> tuple[bytes, list[list[int]]]:
    """The `#board` element's screenshot, whole, and the data cells cut short in it (of `cols` a row):
    a board taller or wider than the window (a 20 x 15 table of wrapped labels at 24 px) is shot in a
    window grown to hold it, then the window is put back."""
    board = driver.find_element("id", "board")

    def shot() -> tuple[bytes, list[list[int]]]:  # the cut cells measured in the layout that was shot
        return board.screenshot_as_png, driver.execute_script(CUT_CELLS_JS, board, cols)

    over_x, over_y = driver.execute_script(OVERFLOW_JS, board)
    if over_x <= 0 and over_y <= 0:
        return shot()
    size = driver.get_window_size()
    driver.set_window_size(size["width"] + max(0, over_x) + 16, size["height"] + max(0, over_y) + 16)
    try:
        return shot()
    finally:
        driver.set_window_size(size["width"], size["height"])


def load_manifest(out: Path) -> list[Picture]:
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [Picture(**p) for p in data["pictures"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-look", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--looks", help="comma list of look names (default: all)")
    args = parser.parse_args()
    looks = [BY_NAME[n] for n in args.looks.split(",")] if args.looks else list(LOOKS)
    pictures = render(looks, args.per_look, args.seed, args.out)
    print(f"{len(pictures)} pictures of {len(looks)} looks -> {args.out}")


if __name__ == "__main__":
    main()
