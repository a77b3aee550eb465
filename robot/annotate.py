"""Drawings on a table's screenshot for the people who check it: pure image functions, no I/O."""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.imageio import to_bgr
from recognizer.table import Table

# annotate(): colours are BGR
VALUE_INK = (150, 60, 0)  # dark blue digits...
VALUE_BACKING = (255, 255, 255)  # ...on a white patch, readable on any table style
FLAG_COLOUR = (0, 0, 255)  # red frame around cells that need review
FLAG_THICKNESS = 2  # drawn inside the cell's box
EMPTY_COLOUR = (128, 128, 128)  # grey cross on empty cells
FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_HEIGHT_FRACTION = 0.4  # label text height relative to the cell height
MIN_FONT_SCALE = 0.3


def annotate(image: np.ndarray, table: Table) -> np.ndarray:
    """A copy of `image` with each cell's read value drawn in its box, flagged cells framed red,
    empty cells crossed grey. Pure: no I/O, the input is left untouched."""
    out = to_bgr(image).copy()
    for cell in table:
        x, y, w, h = cell.box.x, cell.box.y, cell.box.w, cell.box.h
        if cell.value is None:
            cx, cy, r = x + w // 2, y + h // 2, max(2, min(w, h) // 6)
            cv2.line(out, (cx - r, cy - r), (cx + r, cy + r), EMPTY_COLOUR, 1, cv2.LINE_AA)
            cv2.line(out, (cx - r, cy + r), (cx + r, cy - r), EMPTY_COLOUR, 1, cv2.LINE_AA)
        else:
            _label(out, str(cell.value), x, y, h)
        if cell.needs_review:
            inset = FLAG_THICKNESS // 2
            cv2.rectangle(out, (x + inset, y + inset), (x + w - 1 - inset, y + h - 1 - inset), FLAG_COLOUR, FLAG_THICKNESS)
    return out


def _label(image: np.ndarray, text: str, x: int, y: int, cell_h: int) -> None:
    (_, base_h), _ = cv2.getTextSize("0", FONT, 1.0, 1)
    scale = max(MIN_FONT_SCALE, LABEL_HEIGHT_FRACTION * cell_h / base_h)
    (tw, th), baseline = cv2.getTextSize(text, FONT, scale, 1)
    top_left, bottom_right = (x + 1, y + 1), (x + 3 + tw, y + 3 + th + baseline)
    cv2.rectangle(image, top_left, bottom_right, VALUE_BACKING, cv2.FILLED)
    cv2.putText(image, text, (x + 2, y + 2 + th), FONT, scale, VALUE_INK, 1, cv2.LINE_AA)

