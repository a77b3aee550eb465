"""Cell image -> model input. The one normalising function shared by inference and training.

Polarity and colour are decided per cell: the background is the median colour of the
cell's centre, ink is whatever differs from it. Ink touching the crop edge that looks
like a grid line, a cell gap, a corner or a neighbouring stripe is dropped. The ink's bounding box
is scaled (aspect kept) into a fixed box centred in the model input, bright ink on black,
like MNIST.

It works on batches: crops of one size are processed together with array operations
(one connected-components pass over a mosaic of all crops), which is what makes a
120-cell table take a few milliseconds. `normalize_cell` is the same code on a batch
of one. Bump NORMALIZER_VERSION on any change: models record the version they were
trained with and refuse to load under another.
"""
from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

NORMALIZER_VERSION = 3
INPUT_SIZE = 28
INK_BOX = 22  # the ink is fitted into INK_BOX x INK_BOX inside INPUT_SIZE x INPUT_SIZE

MIN_CONTRAST = 40  # below this max difference from the background, a cell is empty
INK_LEVEL = 4  # ink is what differs from the background by more than 1/INK_LEVEL of the peak
BG_MARGIN = 0.15  # the background is voted on inside this margin of the crop
EDGE_THIN = 0.15  # edge-touching components thinner than this fraction of the crop are line fragments
EDGE_SPAN = 0.9  # edge-touching components spanning this fraction of the crop are frames / stripes
SPECK_AREA = 0.004  # components smaller than this fraction of the crop area are noise
MIN_CROP = 4  # crops smaller than this (pixels, either side) are empty
_RIM = np.ones((3, 3), np.uint8)


def background_colours(cells: np.ndarray) -> np.ndarray:
    """(N, h, w, 3) uint8 -> (N, 3) background colours: the per-channel median of each
    crop's centre. Central, because neighbouring cells, gaps and lines show up at the
    edges; a median, because ink covers well under half of a cell's centre."""
    n, h, w, _ = cells.shape
    my, mx = int(h * BG_MARGIN), int(w * BG_MARGIN)
    centre = cells[:, my : h - my, mx : w - mx].reshape(n, -1, 3)
    return np.median(centre, axis=1)


def ink_maps(cells: np.ndarray) -> np.ndarray:
    """(N, h, w, 3) -> (N, h, w) uint8 difference from each crop's background: ink is bright."""
    n, h, w, _ = cells.shape
    bg = np.round(background_colours(cells)).astype(np.uint8)
    diff = cv2.absdiff(cells.reshape(n * h, w, 3), np.repeat(bg, h, axis=0)[:, None, :].repeat(w, axis=1))
    return cv2.max(cv2.max(diff[..., 0], diff[..., 1]), diff[..., 2]).reshape(n, h, w)


def ink_masks(ink: np.ndarray) -> np.ndarray:
    """(N, h, w) ink maps -> (N, h, w) uint8 masks of each number's strokes (all zero: empty)."""
    n, h, w = ink.shape
    peak = ink.reshape(n, -1).max(axis=1).astype(np.int32)
    # A low threshold: a grid line or a bold stroke may set the peak, and a light font's
    # strokes must still be whole. Noise this lets in is small, or touches the edge.
    threshold = np.where(peak >= MIN_CONTRAST, np.maximum(MIN_CONTRAST // 2, peak // INK_LEVEL), 255)
    # One connected-components pass over a mosaic: crops stacked with a blank row between.
    mosaic = np.zeros((n, h + 1, w), np.uint8)
    mosaic[:, :h] = ink > threshold[:, None, None].astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mosaic.reshape(n * (h + 1), w), connectivity=8)
    x, y, bw, bh, area = (stats[1:, i] for i in range(5))
    y = y % (h + 1)  # position inside its own crop
    touches = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    line_like = (bw < EDGE_THIN * w) | (bh < EDGE_THIN * h) | (bw > EDGE_SPAN * w) | (bh > EDGE_SPAN * h)
    # A number reaches into the crop's centre; corners and ends of lines at the edge do not.
    my, mx = h * BG_MARGIN, w * BG_MARGIN
    off_centre = (x + bw <= mx) | (x >= w - mx) | (y + bh <= my) | (y >= h - my)
    keep = np.zeros(count, np.uint8)
    keep[1:] = (area >= max(2.0, SPECK_AREA * h * w)) & ~(touches & (line_like | off_centre))
    return keep[labels].reshape(n, h + 1, w)[:, :h]


def glyphs(ink: np.ndarray, masks: np.ndarray) -> list[np.ndarray | None]:
    """Ink maps and stroke masks -> model inputs (None where a mask is empty).

    The strokes keep their anti-aliased rim (the mask dilated by a pixel); everything
    else is dropped; the ink's box is scaled into INK_BOX, aspect kept, and centred."""
    n, h, w = ink.shape
    rims = cv2.dilate(masks.reshape(n * h, w), _RIM).reshape(n, h, w)
    kept = ink * rims
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    has_ink = rows.any(axis=1)
    y0, y1 = rows.argmax(axis=1), h - rows[:, ::-1].argmax(axis=1)
    x0, x1 = cols.argmax(axis=1), w - cols[:, ::-1].argmax(axis=1)
    gain = 1.0 / np.maximum(kept.reshape(n, -1).max(axis=1), 1)
    out: list[np.ndarray | None] = []
    for k in range(n):
        if not has_ink[k]:
            out.append(None)
            continue
        glyph = kept[k, y0[k] : y1[k], x0[k] : x1[k]]
        gh, gw = glyph.shape
        scale = INK_BOX / max(gh, gw)
        nh, nw = max(1, round(gh * scale)), max(1, round(gw * scale))
        small = cv2.resize(glyph, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        x = np.zeros((INPUT_SIZE, INPUT_SIZE), np.float32)
        oy, ox = (INPUT_SIZE - nh) // 2, (INPUT_SIZE - nw) // 2
        x[oy : oy + nh, ox : ox + nw] = small * gain[k]
        out.append(x)
    return out


def normalize_batch(cells: list[np.ndarray]) -> tuple[np.ndarray, list[bool]]:
    """Normalise crops (BGR or grey uint8, any sizes): returns the (N_nonempty, S, S, 1)
    float32 inputs in crop order, and an is-empty flag per crop."""
    cells = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) if c.ndim == 2 or c.shape[2] == 1 else c for c in cells]
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, cell in enumerate(cells):
        if min(cell.shape[:2]) >= MIN_CROP:
            by_shape[cell.shape[:2]].append(i)
    results: list[np.ndarray | None] = [None] * len(cells)
    for indices in by_shape.values():
        stack = np.stack([cells[i] for i in indices])
        ink = ink_maps(stack)
        for i, x in zip(indices, glyphs(ink, ink_masks(ink))):
            results[i] = x
    inputs = [r for r in results if r is not None]
    arr = np.stack(inputs)[..., None] if inputs else np.zeros((0, INPUT_SIZE, INPUT_SIZE, 1), np.float32)
    return arr, [r is None for r in results]


def normalize_cell(cell: np.ndarray) -> np.ndarray | None:
    """One crop -> (S, S) float32 in [0, 1], or None when the cell is empty."""
    inputs, empty = normalize_batch([cell])
    return None if empty[0] else inputs[0, :, :, 0]
