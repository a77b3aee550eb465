"""Test fixture: render table images with known values in many looks (Pillow, no browser)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from recognizer.fonts import matplotlib_font_dir
from recognizer.labels import RED_NUMBERS

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
LIBERATION = Path("/usr/share/fonts/truetype/liberation")


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
    line: int = 1
    gap: int = 3
    scale: float = 1.0
    header: bool = False  # a header row and column of labels
    jpeg: int | None = None


def render(values: np.ndarray, look: Look = Look()) -> np.ndarray:
    """values: int array, -1 = empty. Returns BGR uint8."""
    s = look.scale
    cw, ch, size, line, gap = (max(1, round(v * s)) for v in (look.cell_w, look.cell_h, look.size, look.line, look.gap))
    rows, cols = values.shape
    hr = 1 if look.header else 0
    W, H = (cols + hr) * cw + 2 * line, (rows + hr) * ch + 2 * line
    bg = {"dark": (30, 32, 38)}.get(look.style, (255, 255, 255))
    fg = {"dark": (225, 225, 225)}.get(look.style, (25, 25, 25))
    im = Image.new("RGB", (W, H), bg)
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(font_path(look.font), size)

    def text(x0, y0, s_, colour):
        bb = d.textbbox((0, 0), s_, font=font)
        tw, th = bb[2] - bb[0], bb[3] - bb[1]
        pad = max(3, gap + 2)
        tx = {"center": x0 + (cw - tw) / 2, "left": x0 + pad, "right": x0 + cw - pad - tw}[look.align] - bb[0]
        d.text((tx, y0 + (ch - th) / 2 - bb[1]), s_, font=font, fill=colour)

    for r in range(rows + hr):
        y0 = line + r * ch
        if look.style == "zebra" and r % 2:
            d.rectangle([0, y0, W, y0 + ch - 1], fill=(232, 236, 244))
        for c in range(cols + hr):
            x0 = line + c * cw
            if r < hr or c < hr:
                label = "" if (r < hr and c < hr) else (f"C{c - hr + 1}" if r < hr else f"R{r - hr + 1}")
                text(x0, y0, label, fg)
                continue
            v = int(values[r - hr, c - hr])
            colour = fg
            if look.style == "roulette":
                cell_bg = (0, 130, 60) if v == 0 else ((200, 30, 45) if v in RED_NUMBERS else (25, 25, 25))
                d.rounded_rectangle([x0 + gap, y0 + gap, x0 + cw - gap, y0 + ch - gap], radius=max(2, ch // 5), fill=cell_bg)
                colour = (255, 255, 255)
            if look.style in ("light", "dark"):
                d.rectangle([x0, y0, x0 + cw, y0 + ch], outline=(128, 128, 128), width=line)
            if v >= 0:
                text(x0, y0, str(v), colour)
    out = cv2.cvtColor(np.array(im), cv2.COLOR_RGB2BGR)
    if look.jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, look.jpeg])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def random_values(rows=8, cols=15, seed=0, empty_tail=0) -> np.ndarray:
    v = np.random.default_rng(seed).integers(0, 37, (rows, cols))
    if empty_tail:
        v[-1, cols - empty_tail :] = -1
    return v
