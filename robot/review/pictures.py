"""Pure picture helpers for the review pages: crops, the cell-in-context view, overlay and histogram geometry."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from recognizer.table import Box, Table

CONTEXT_CELLS = 1.0  # the context view shows this many cell sizes around the cell
HIGHLIGHT_BGR = (0, 140, 255)  # orange frame around the cell in its context
HIGHLIGHT_THICKNESS = 2


def crop_box(image: np.ndarray, box: Box) -> np.ndarray:
    """The cell exactly as the recognizer sees it (`recognizer.segment.crop_cells`), clipped to the image."""
    h, w = image.shape[:2]
    x0, y0 = max(0, box.x), max(0, box.y)
    x1, y1 = min(w, box.x + box.w), min(h, box.y + box.h)
    return image[y0:max(y0, y1), x0:max(x0, x1)].copy()


def context_view(image: np.ndarray, box: Box, margin_cells: float = CONTEXT_CELLS) -> np.ndarray:
    """The cell with its neighbours around it and an orange frame on the cell (a copy)."""
    h, w = image.shape[:2]
    mx, my = round(box.w * margin_cells), round(box.h * margin_cells)
    x0, y0 = max(0, box.x - mx), max(0, box.y - my)
    x1, y1 = min(w, box.x + box.w + mx), min(h, box.y + box.h + my)
    view = image[y0:y1, x0:x1].copy()
    cv2.rectangle(
        view,
        (box.x - x0, box.y - y0),
        (box.x - x0 + box.w - 1, box.y - y0 + box.h - 1),
        HIGHLIGHT_BGR,
        HIGHLIGHT_THICKNESS,
    )
    return view


@dataclass(frozen=True)
class OverlayCell:
    """One cell of the table view, placed in percent of the screenshot so it scales with the page."""

    row: int
    col: int
    left: float
    top: float
    width: float
    height: float
    text: str
    state: str  # "flagged", "confirmed" or "plain"
    confidence: float


def overlay_cells(table: Table, image_width: int, image_height: int) -> list[OverlayCell]:
    out = []
    for c in table:
        state = "confirmed" if c.confirmed else "flagged" if c.needs_review else "plain"
        out.append(
            OverlayCell(
                row=c.row,
                col=c.col,
                left=100.0 * c.box.x / image_width,
                top=100.0 * c.box.y / image_height,
                width=100.0 * c.box.w / image_width,
                height=100.0 * c.box.h / image_height,
                text="" if c.value is None else str(c.value),
                state=state,
                confidence=c.confidence,
            )
        )
    return out


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


def histogram_bars(counts: dict, width: float, height: float, gap: float = 0.2) -> list[Bar]:
    """Bar geometry for counts in their given order; the tallest bar fills `height` (SVG y grows down)."""
    n = max(len(counts), 1)
    top = max(max(counts.values(), default=0), 1)
    slot = width / n
    bars = []
    for i, (label, count) in enumerate(counts.items()):
        h = height * count / top
        bars.append(Bar(str(label), count, i * slot + slot * gap / 2, height - h, slot * (1 - gap), h))
    return bars
