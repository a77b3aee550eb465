"""Table images in fonts and looks kept out of training, with their true values.

Used by the benchmark and the accuracy test: whole tables (segmentation + classification),
drawn by the demo site's pure renderer with the held-out font families.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognizer.training.synth import HELD_OUT_FAMILIES, discover_font_files, family_of
from robot.demo.render import Align, Style, TableLook, render_table, text_extent

FONT_PX = (11, 26)
SCALES = (1.0, 1.25, 1.5, 2.0)
JPEG_QUALITY = (60, 95)


@dataclass(frozen=True)
class Sample:
    image: np.ndarray
    values: list[list[int | None]]
    look: TableLook
    jpeg: int | None


def heldout_fonts() -> list[Path]:
    fonts = [p for p in discover_font_files() if family_of(p) in HELD_OUT_FAMILIES]
    if not fonts:
        raise SystemExit(f"no held-out fonts found ({', '.join(sorted(HELD_OUT_FAMILIES))}): run scripts/setup.sh")
    return sorted(fonts)


def make_tables(n: int, seed: int = 0, rows: int = 8, cols: int = 15, fonts: list[Path] | None = None) -> list[Sample]:
    rng = np.random.default_rng(seed)
    fonts = fonts or heldout_fonts()
    out = []
    for i in range(n):
        style = list(Style)[i % len(Style)]
        font = fonts[int(rng.integers(len(fonts)))]
        font_px = int(rng.integers(FONT_PX[0], FONT_PX[1] + 1))
        probe = TableLook(style=style, font_path=font, font_px=font_px)
        tw, th = text_extent(probe)
        grid = {Style.LIGHT: 1, Style.DARK: 1, Style.ROULETTE: 3, Style.ZEBRA: 0}[style]
        look = TableLook(
            style=style,
            font_path=font,
            font_px=font_px,
            cell_w=tw + 8 + int(rng.integers(4, 16)),
            cell_h=th + 4 + int(rng.integers(6, 14)),
            align=Align.CENTER if style is Style.ROULETTE else list(Align)[int(rng.integers(3))],
            scale=float(rng.choice(SCALES)),
            grid_px=grid + int(rng.integers(0, 2)) * (style is Style.LIGHT),
            corner_px=int(rng.integers(2, 6)) if style is Style.ROULETTE else 0,
        )
        values = rng.integers(0, 37, (rows, cols)).tolist()
        if i % 3 == 0:  # a history that is not full yet
            for c in range(cols - int(rng.integers(1, cols // 2)), cols):
                values[-1][c] = None
        image = render_table(values, look)
        jpeg = int(rng.integers(*JPEG_QUALITY)) if i % 4 == 3 else None
        if jpeg:
            image = cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], cv2.IMREAD_COLOR)
        out.append(Sample(image, values, look, jpeg))
    return out


@dataclass
class Score:
    right: int = 0
    total: int = 0
    flagged: int = 0
    wrong_unflagged: int = 0

    def add(self, table, values: list[list[int | None]]) -> None:
        """Count a read Table against its true values (empty must be read as empty)."""
        for cell in table:
            truth = values[cell.row][cell.col]
            self.total += 1
            self.right += cell.value == truth
            self.flagged += cell.needs_review
            self.wrong_unflagged += cell.value != truth and not cell.needs_review

    @property
    def accuracy(self) -> float:
        return self.right / max(self.total, 1)

    @property
    def flagged_share(self) -> float:
        return self.flagged / max(self.total, 1)
