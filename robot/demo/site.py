"""The demo site's catalogue: which pages exist, which tables they hold, their true values and looks.

Everything follows from one seed. Values come from `numpy.random.default_rng(seed)` alone,
so they do not depend on which fonts this machine has; looks (font, size, alignment, cell
size) come from a second stream and always leave the numbers readable and unclipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from recognizer.labels import NUM_CLASSES
from robot.demo.render import (
    MIN_TEXT_PAD_PX,
    Align,
    Style,
    TableLook,
    Value,
    demo_fonts,
    text_extent,
)

MAIN_SHAPE = (8, 15)  # rows, cols of every page's #table-main
SMALL_SHAPE = (4, 10)  # the roulette page's #table-small
FONT_PX_RANGE = (12, 24)  # inclusive
SLACK_W_RANGE = (6, 18)  # extra CSS px of cell width beyond the widest number and padding
SLACK_H_RANGE = (6, 14)
PAD_PX_RANGE = (4, 8)  # text inset for left/right alignment
GRID_PX = {Style.LIGHT: (1, 2), Style.DARK: (1, 1), Style.ROULETTE: (2, 5), Style.ZEBRA: (0, 0)}  # inclusive
CORNER_PX_RANGE = (3, 7)  # roulette only
ZEBRA_EMPTY_RANGE = (3, 12)  # empty cells at the end of the zebra table's last row: history not full yet
SMALL_EMPTY_RANGE = (1, 5)  # same for the roulette page's small table
DARK_HOLES = 2  # scattered missing readings on the dark page
LOOK_STREAM = 1  # second seed word: looks never disturb the values' stream

PAGE_TITLES = {
    Style.LIGHT: "Spin results - table A",
    Style.DARK: "Spin results - night table",
    Style.ROULETTE: "Roulette history",
    Style.ZEBRA: "Spin results - table B",
}


@dataclass(frozen=True)
class DemoTable:
    name: str  # "main", "small"
    values: tuple[tuple[Value, ...], ...]
    look: TableLook

    @property
    def element_id(self) -> str:
        return f"table-{self.name}"

    @property
    def rows(self) -> int:
        return len(self.values)

    @property
    def cols(self) -> int:
        return len(self.values[0])

    def values_list(self) -> list[list[Value]]:
        return [list(row) for row in self.values]


@dataclass(frozen=True)
class PageSpec:
    name: str
    title: str
    tables: tuple[DemoTable, ...]

    @property
    def path(self) -> str:
        return f"/tables/{self.name}"

    def table(self, name: str) -> DemoTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"page {self.name!r} has no table {name!r}; it has {[t.name for t in self.tables]}")


def build_catalogue(seed: int, fonts: Sequence[Path] | None = None) -> dict[str, PageSpec]:
    """The four pages light, dark, roulette, zebra (in that order) for `seed`."""
    fonts = list(fonts) if fonts is not None else demo_fonts()
    values_rng = np.random.default_rng(seed)
    looks_rng = np.random.default_rng((seed, LOOK_STREAM))
    pages: dict[str, PageSpec] = {}
    for style in Style:
        tables = [DemoTable("main", _values(values_rng, MAIN_SHAPE, style, "main"), _look(looks_rng, style, fonts))]
        if style is Style.ROULETTE:
            tables.append(DemoTable("small", _values(values_rng, SMALL_SHAPE, style, "small"), _look(looks_rng, style, fonts)))
        pages[style.value] = PageSpec(style.value, PAGE_TITLES[style], tuple(tables))
    return pages


def _values(rng: np.random.Generator, shape: tuple[int, int], style: Style, table: str) -> tuple[tuple[Value, ...], ...]:
    grid: list[list[Value]] = rng.integers(0, NUM_CLASSES, size=shape).tolist()
    rows, cols = shape
    if style is Style.ZEBRA or (style is Style.ROULETTE and table == "small"):
        low, high = ZEBRA_EMPTY_RANGE if style is Style.ZEBRA else SMALL_EMPTY_RANGE
        empty = int(rng.integers(low, high + 1))
        grid[-1][cols - empty :] = [None] * empty
    elif style is Style.DARK:
        for flat in rng.choice(rows * cols, size=DARK_HOLES, replace=False):
            grid[flat // cols][flat % cols] = None
    return tuple(tuple(row) for row in grid)


def _between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _look(rng: np.random.Generator, style: Style, fonts: Sequence[Path]) -> TableLook:
    """A readable look: cells sized from the font's widest number plus padding and some random slack."""
    font = fonts[int(rng.integers(len(fonts)))]
    font_px = _between(rng, FONT_PX_RANGE)
    # Roulette boards centre their numbers; the other pages vary.
    align = Align.CENTER if style is Style.ROULETTE else list(Align)[int(rng.integers(len(Align)))]
    pad_px = _between(rng, PAD_PX_RANGE)
    probe = TableLook(style=style, font_path=font, font_px=font_px)
    text_w, text_h = text_extent(probe)  # device px at scale 1 == CSS px
    side = max(pad_px, MIN_TEXT_PAD_PX)
    cell_w = text_w + 2 * side + _between(rng, SLACK_W_RANGE)
    cell_h = text_h + 2 * MIN_TEXT_PAD_PX + _between(rng, SLACK_H_RANGE)
    corner = _between(rng, CORNER_PX_RANGE) if style is Style.ROULETTE else 0
    return TableLook(
        style=style,
        font_path=font,
        font_px=font_px,
        cell_w=cell_w,
        cell_h=cell_h,
        align=align,
        grid_px=_between(rng, GRID_PX[style]),
        pad_px=pad_px,
        corner_px=min(corner, min(cell_w, cell_h) // 3),  # a rounded cell, never a pill
    )
