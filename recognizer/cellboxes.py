"""Cell boxes given from outside (an HTML table's cells, read from the page): arranged into rows and
columns, and cropped for the normaliser. Pure array functions; no segmentation.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recognizer.errors import SegmentationError
from recognizer.table import Box

ROW_STEP = 0.5  # a box whose top is this * the median box height below its row's first starts a new row
OUTSIDE_TOLERANCE = 1  # pixels a box may reach past the picture's edge (rounding of fractional CSS boxes)
CROP_INSET = 0.08  # each side of a box given this share inwards: cell borders and padding stay out of the crop


def arrange(boxes: Sequence[Box], rows: int, cols: int, what: str = "the table") -> list[Box]:
    """`boxes` in any order -> the same boxes row by row, left to right. Rows are grouped from the box tops
    (a page's DOM order need not be its reading order: grids placed by CSS, right-to-left layouts).
    SegmentationError unless they form `rows` rows of `cols` boxes each."""
    if len(boxes) != rows * cols:
        raise SegmentationError(f"{what}: {len(boxes)} cells given, expected {rows}x{cols} = {rows * cols}: "
                                "check rows/cols and the cells/header_cells selectors")
    if not boxes:
        return []
    step = ROW_STEP * float(np.median([b.h for b in boxes]))
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.y, b.x)):
        if lines and box.y - lines[-1][0].y <= step:
            lines[-1].append(box)
        else:
            lines.append([box])
    counts = [len(line) for line in lines]
    if len(lines) != rows or any(n != cols for n in counts):
        raise SegmentationError(f"{what}: its cells lie in {len(lines)} rows of {', '.join(map(str, counts))} cells, "
                                f"expected {rows} rows of {cols}: check rows/cols and the cells selector")
    return [box for line in lines for box in sorted(line, key=lambda b: b.x)]


def check_inside(boxes: Sequence[Box], height: int, width: int, what: str = "the table") -> None:
    """SegmentationError when a box reaches out of the picture: its cell would be read as empty, not as
    what the page shows there (the table element does not hold its cells, or the screenshot was cut)."""
    t = OUTSIDE_TOLERANCE
    out = [b for b in boxes if b.x < -t or b.y < -t or b.x + b.w > width + t or b.y + b.h > height + t]
    if out:
        b = out[0]
        raise SegmentationError(
            f"{what}: {len(out)} of its {len(boxes)} cells lie outside its {width}x{height} picture (one at "
            f"x={b.x}, y={b.y}, {b.w}x{b.h}): select the element that holds all the cells as the table")


def crop_boxes(image: np.ndarray, boxes: Sequence[Box], inset: float = CROP_INSET) -> list[np.ndarray]:
    """The crop of each box, `inset` of its size inside on each side, clipped to the image (a box wholly
    outside gives an empty crop, which the normaliser reads as an empty cell)."""
    H, W = image.shape[:2]
    crops = []
    for b in boxes:
        dx, dy = round(b.w * inset), round(b.h * inset)
        x0, y0 = min(max(b.x + dx, 0), W), min(max(b.y + dy, 0), H)
        x1, y1 = max(min(b.x + b.w - dx, W), x0), max(min(b.y + b.h - dy, H), y0)
        crops.append(image[y0:y1, x0:x1])
    return crops
