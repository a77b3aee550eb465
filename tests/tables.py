"""Test fixture: table images with known values in many looks, drawn by the demo site's renderer.

`render(values, Look(...))` maps a short test look onto `robot.demo.render.TableLook` and adds
what only tests need: a "plain" look (light without grid lines), a header row and column of
labels (C1.., R1..) the segmenter must skip, and JPEG compression.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from recognizer.fonts import matplotlib_font_dir
from robot.demo.render import (
    Align,
    Geometry,
    Style,
    TableLook,
    render_table,
    scaled,
    table_geometry,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
LIBERATION = Path("/usr/share/fonts/truetype/liberation")
HEADER_TEXT_BGR = (41, 37, 33)  # the light look's text colour


def font_path(name: str) -> str:
    for folder in (DEJAVU, LIBERATION, matplotlib_font_dir()):
        if folder is not None and (folder / name).exists():
            return str(folder / name)
    raise FileNotFoundError(f"test font {name} not found in {DEJAVU}, {LIBERATION} or matplotlib's fonts")


@dataclass
class Look:
    style: str = "light"  # light | dark | roulette | zebra | plain
    font: str = "DejaVuSans.ttf"
    size: int = 14
    cell_w: int = 34
    cell_h: int = 24
    align: str = "center"
    line: int = 1  # grid line width (light, dark)
    gap: int = 3  # space between the rounded cells (roulette)
    scale: float = 1.0
    header: bool = False  # a header row and column of labels
    letters: bool = False  # a header row of letters A, B, C, ... over the columns, no row labels
    jpeg: int | None = None

    def table_look(self) -> TableLook:
        grid = {"plain": 0, "zebra": 0, "roulette": self.gap}.get(self.style, self.line)
        return TableLook(
            style=Style.LIGHT if self.style == "plain" else Style(self.style),
            font_path=Path(font_path(self.font)),
            font_px=self.size,
            cell_w=self.cell_w,
            cell_h=self.cell_h,
            align=Align(self.align),
            scale=self.scale,
            grid_px=grid,
            corner_px=max(2, self.cell_h // 5) if self.style == "roulette" else 0,
        )


def render(values: np.ndarray, look: Look = Look()) -> np.ndarray:
    """values: int array, -1 = empty. Returns BGR uint8."""
    cells = [[None if v < 0 else int(v) for v in row] for row in np.asarray(values)]
    if look.header:
        cells = [[None] * (len(cells[0]) + 1), *[[None, *row] for row in cells]]
    elif look.letters:
        cells = [[None] * len(cells[0]), *cells]
    table = look.table_look()
    out = render_table(cells, table)
    if look.header or look.letters:
        out = _draw_header(out, table_geometry(len(cells), len(cells[0]), table), table, look.letters)
    if look.jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, look.jpeg])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def _draw_header(image: np.ndarray, geo: Geometry, table: TableLook, letters: bool = False) -> np.ndarray:
    """Label the (empty) first row C1.. and first column R1.., centred in their cells; or, with
    `letters`, the first row A, B, C, ... from the first column on."""
    im = Image.fromarray(image)  # BGR channels as they are: the fill below is BGR too
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(str(table.font_path), scaled(table.font_px, table.scale))
    for r, row in enumerate(geo.boxes):
        for c, (x0, y0, x1, y1) in enumerate(row):
            if letters:
                if r > 0:
                    break
                text = chr(ord("A") + c)
            elif (r == 0) == (c == 0):
                continue
            else:
                text = f"C{c}" if r == 0 else f"R{r}"
            left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
            x = x0 + ((x1 - x0) - (right - left)) // 2 - left
            y = y0 + ((y1 - y0) - (bottom - top)) // 2 - top
            draw.text((x, y), text, font=font, fill=HEADER_TEXT_BGR)
    return np.asarray(im).copy()


def cell_centre(row: int, col: int, rows: int, cols: int, look: Look) -> tuple[int, int]:
    """Where the centre of a cell lies in the rendered image, (x, y) in device px."""
    x0, y0, x1, y1 = table_geometry(rows, cols, look.table_look()).boxes[row][col]
    return (x0 + x1) // 2, (y0 + y1) // 2


def random_values(rows=8, cols=15, seed=0, empty_tail=0) -> np.ndarray:
    v = np.random.default_rng(seed).integers(0, 37, (rows, cols))
    if empty_tail:
        v[-1, cols - empty_tail :] = -1
    return v
