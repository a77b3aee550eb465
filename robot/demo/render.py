"""Pure rendering of a demo table of numbers 0..36 into a BGR image.

`render_table(values, look)` draws whole numbers ("7", "36") with a real TrueType font
through Pillow, in one of four looks that mimic real result boards. It reads nothing but
the font file (cached) and refuses a look whose cells are too small for the widest
number, so text is never clipped by a cell edge.
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from recognizer.fonts import matplotlib_font_dir
from recognizer.labels import CLASSES, MAX_VALUE, MIN_VALUE, RED_NUMBERS, is_valid_value
from tablebot.errors import DataError

Value = int | None
RGB = tuple[int, int, int]


class Style(str, enum.Enum):
    LIGHT = "light"  # white background, dark text, grid lines
    DARK = "dark"  # dark background, light text, thin grid
    ROULETTE = "roulette"  # white numbers on red/black/green rounded cells, gaps, no lines
    ZEBRA = "zebra"  # borderless, alternate row stripes


class Align(str, enum.Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


# Font preference list, by file name; the first folder holding a file wins.
DEMO_FONT_NAMES: tuple[str, ...] = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "LiberationSans-Regular.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationMono-Regular.ttf",
    "DejaVuSerif.ttf",
)
SYSTEM_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/liberation2"),
)
FONT_PACKAGES = "fonts-dejavu-core fonts-liberation"

# Smallest clear space between a number's ink and its cell edge, in CSS px (before scale).
MIN_TEXT_PAD_PX = 2
# Ink height reference: all digits, so every number in a table shares one baseline.
DIGITS = "0123456789"

# Colours (RGB); which roulette numbers are red: recognizer.labels.RED_NUMBERS.


@dataclass(frozen=True)
class Palette:
    background: RGB  # behind the cells; the grid/gap colour
    cell: RGB  # cell fill (odd rows for zebra)
    cell_alt: RGB  # zebra's even-row stripe; same as cell elsewhere
    text: RGB
    grid: RGB | None  # None: gaps show the background, no lines drawn


PALETTES: dict[Style, Palette] = {
    Style.LIGHT: Palette((255, 255, 255), (255, 255, 255), (255, 255, 255), (33, 37, 41), (173, 181, 189)),
    Style.DARK: Palette((30, 32, 36), (30, 32, 36), (30, 32, 36), (226, 230, 234), (74, 78, 86)),
    Style.ROULETTE: Palette((238, 238, 238), (214, 214, 214), (214, 214, 214), (255, 255, 255), None),
    Style.ZEBRA: Palette((255, 255, 255), (255, 255, 255), (236, 241, 247), (40, 55, 71), None),
}
ROULETTE_RED: RGB = (200, 16, 46)
ROULETTE_BLACK: RGB = (28, 28, 30)
ROULETTE_GREEN: RGB = (0, 122, 61)


@dataclass(frozen=True)
class TableLook:
    """How one table is drawn. Sizes are CSS px; `scale` multiplies them (like a device pixel ratio)."""

    style: Style
    font_path: Path
    font_px: int = 16
    cell_w: int = 36
    cell_h: int = 28
    align: Align = Align.CENTER
    scale: float = 1.0
    grid_px: int = 1  # grid line width (light, dark) or gap between cells (roulette, zebra)
    pad_px: int = 4  # text inset from the cell edge for left/right alignment
    corner_px: int = 0  # rounded cell corners (roulette)

    def __post_init__(self) -> None:
        if not 0.5 <= self.scale <= 4:
            raise ValueError(f"scale must be from 0.5 to 4, got {self.scale}")
        if self.font_px < 1 or self.cell_w < 1 or self.cell_h < 1:
            raise ValueError(f"font_px, cell_w and cell_h must be positive, got {self.font_px}, {self.cell_w}, {self.cell_h}")
        if self.grid_px < 0 or self.pad_px < 0 or self.corner_px < 0:
            raise ValueError("grid_px, pad_px and corner_px must not be negative")


@dataclass(frozen=True)
class Geometry:
    """Device-pixel layout of a table: image size and the box (x0, y0, x1, y1), end-exclusive, of each cell."""

    width: int
    height: int
    boxes: tuple[tuple[tuple[int, int, int, int], ...], ...]  # [row][col]


def demo_fonts() -> list[Path]:
    """The demo fonts present on this machine, in preference order; DataError when there are none."""
    mpl = matplotlib_font_dir()
    dirs = (*SYSTEM_FONT_DIRS, *([mpl] if mpl else []))
    found = []
    for name in DEMO_FONT_NAMES:
        path = next((d / name for d in dirs if (d / name).is_file()), None)
        if path is not None:
            found.append(path)
    if not found:
        raise DataError(
            f"no demo font found ({', '.join(DEMO_FONT_NAMES)}) in {', '.join(map(str, dirs))}: "
            f"install the Debian packages {FONT_PACKAGES} (see scripts/system-packages.txt)"
        )
    return found


def scaled(px: int, scale: float) -> int:
    """CSS px -> device px; a positive length never rounds to nothing."""
    return 0 if px == 0 else max(1, round(px * scale))


def table_geometry(rows: int, cols: int, look: TableLook) -> Geometry:
    """Where each cell lies. Grid lines or gaps of `grid_px` surround every cell, the outer edge included."""
    cw, ch, g = scaled(look.cell_w, look.scale), scaled(look.cell_h, look.scale), scaled(look.grid_px, look.scale)
    boxes = tuple(
        tuple((g + c * (cw + g), g + r * (ch + g), g + c * (cw + g) + cw, g + r * (ch + g) + ch) for c in range(cols))
        for r in range(rows)
    )
    return Geometry(width=cols * cw + (cols + 1) * g, height=rows * ch + (rows + 1) * g, boxes=boxes)


@functools.lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError as exc:
        raise DataError(f"cannot load font {path}: {exc}; pick one from demo_fonts()") from None


@functools.lru_cache(maxsize=4096)
def _ink_box(path: Path, size: int, text: str) -> tuple[int, int, int, int]:
    return _font(path, size).getbbox(text)


def text_extent(look: TableLook) -> tuple[int, int]:
    """Device-px width of the widest number 0..36 and the height of the digits' ink, for this look's font."""
    size = scaled(look.font_px, look.scale)
    width = max(_ink_width(look.font_path, size, str(v)) for v in CLASSES)
    _, top, _, bottom = _ink_box(look.font_path, size, DIGITS)
    return width, bottom - top


def _ink_width(path: Path, size: int, text: str) -> int:
    x0, _, x1, _ = _ink_box(path, size, text)
    return x1 - x0


@functools.lru_cache(maxsize=256)
def check_fits(look: TableLook) -> None:
    """ValueError unless every number 0..36 fits inside a cell with clear space on all sides."""
    text_w, text_h = text_extent(look)
    cw, ch = scaled(look.cell_w, look.scale), scaled(look.cell_h, look.scale)
    pad = scaled(MIN_TEXT_PAD_PX, look.scale)
    side = pad if look.align is Align.CENTER else max(pad, scaled(look.pad_px, look.scale))
    need_w, need_h = text_w + 2 * side, text_h + 2 * pad
    if need_w > cw or need_h > ch:
        raise ValueError(
            f"cells of {look.cell_w}x{look.cell_h} px are too small for {look.font_path.name} at {look.font_px} px: "
            f"the widest number needs {need_w}x{need_h} device px with padding; enlarge cell_w/cell_h or lower font_px"
        )


def render_table(values: Sequence[Sequence[Value]], look: TableLook) -> np.ndarray:
    """Draw `values` (rows of 0..36 or None for an empty cell) as a table image, BGR uint8 of shape (H, W, 3)."""
    rows, cols = _shape(values)
    check_fits(look)
    geo = table_geometry(rows, cols, look)
    palette = PALETTES[look.style]
    image = Image.new("RGB", (geo.width, geo.height), palette.grid or palette.background)
    draw = ImageDraw.Draw(image)
    size = scaled(look.font_px, look.scale)
    font = _font(look.font_path, size)
    _, digits_top, _, digits_bottom = _ink_box(look.font_path, size, DIGITS)
    pad = scaled(look.pad_px, look.scale)
    for r, row in enumerate(values):
        if look.style is Style.ZEBRA:
            # Stripes span the whole row, gaps included: a borderless table.
            _, y0, _, y1 = geo.boxes[r][0]
            g = scaled(look.grid_px, look.scale)
            draw.rectangle((0, y0 - g, geo.width - 1, y1 + g - 1), fill=palette.cell_alt if r % 2 else palette.cell)
        for c, value in enumerate(row):
            x0, y0, x1, y1 = geo.boxes[r][c]
            fill = _cell_fill(look.style, palette, value)
            if fill is not None:
                radius = scaled(look.corner_px, look.scale)
                if radius:
                    draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=radius, fill=fill)
                else:
                    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)
            if value is None:
                continue
            text = str(value)
            ix0, _, ix1, _ = _ink_box(look.font_path, size, text)
            if look.align is Align.LEFT:
                x = x0 + pad - ix0
            elif look.align is Align.RIGHT:
                x = x1 - pad - ix1
            else:
                x = x0 + ((x1 - x0) - (ix1 - ix0)) // 2 - ix0
            y = y0 + ((y1 - y0) - (digits_bottom - digits_top)) // 2 - digits_top
            draw.text((x, y), text, font=font, fill=palette.text)
    return np.asarray(image)[:, :, ::-1].copy()


def _cell_fill(style: Style, palette: Palette, value: Value) -> RGB | None:
    """Cell background, or None where the row stripe / background already shows."""
    if style is Style.ROULETTE:
        if value is None:
            return palette.cell  # an empty slot, still a visible rounded cell
        if value == 0:
            return ROULETTE_GREEN
        return ROULETTE_RED if value in RED_NUMBERS else ROULETTE_BLACK
    if style is Style.ZEBRA:
        return None
    return palette.cell


def _shape(values: Sequence[Sequence[Value]]) -> tuple[int, int]:
    rows = len(values)
    cols = len(values[0]) if rows else 0
    if rows == 0 or cols == 0:
        raise ValueError("a table needs at least one row and one column")
    for r, row in enumerate(values):
        if len(row) != cols:
            raise ValueError(f"row {r} has {len(row)} cells, row 0 has {cols}: all rows must be the same length")
        for v in row:
            if v is not None and not is_valid_value(v.item() if isinstance(v, np.integer) else v):
                raise ValueError(f"cell value {v!r} in row {r} is not a whole number {MIN_VALUE}..{MAX_VALUE} or None")
    return rows, cols
