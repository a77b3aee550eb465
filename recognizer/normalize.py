"""Cell image -> model input. The one normalising function shared by inference and training.

Polarity and colour are decided per cell: the background is the median colour of the
cell's centre, ink is whatever differs from it. Ink at the crop's edge (touching it, or
mostly within a thin band along it) that looks like a grid line, a cell gap, a frame corner
or a neighbouring stripe is dropped. The ink's bounding box
is scaled (aspect kept) into a fixed box centred in the model input, bright ink on black,
like MNIST. Large crops (high-DPI screenshots) are first halved by block averaging: the
model sees 22 pixels of ink, so detail beyond ~2x that is only cost.

It works on batches: crops of one size are processed together with array operations
(one connected-components pass over a mosaic of all crops, one remap for all their
glyphs), which is what makes a 120-cell table take a few milliseconds. `normalize_cell` is the same code on a batch
of one. Bump NORMALIZER_VERSION on any change: models record the version they were
trained with and refuse to load under another.
"""
from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

from recognizer.components import components

NORMALIZER_VERSION = 4
INPUT_SIZE = 28
INK_BOX = 22  # the ink is fitted into INK_BOX x INK_BOX inside INPUT_SIZE x INPUT_SIZE

MIN_CONTRAST = 40  # below this max difference from the background, a cell is empty
INK_LEVEL = 4  # ink is what differs from the background by more than 1/INK_LEVEL of the peak
BG_MARGIN = 0.15  # the background is voted on inside this margin of the crop
EDGE_THIN = 0.15  # edge-touching components thinner than this fraction of the crop are line fragments
EDGE_SPAN = 0.9  # edge-touching components spanning this fraction of the crop are frames / stripes
EDGE_BAND = 0.1  # components with most of their ink this close to the crop edge are lines / corners
SPECK_AREA = 0.004  # components smaller than this fraction of the crop area are noise
MIN_CROP = 4  # crops smaller than this (pixels, either side) are empty
WORK_HEIGHT = 32  # crops at least twice this high are halved (repeatedly) before anything else
_RIM = np.ones((3, 3), np.uint8)


def background_colours(cells: np.ndarray) -> np.ndarray:
    """(N, h, w, 3) uint8 -> (N, 3) background colours: the per-channel median of each
    crop's centre. Central, because neighbouring cells, gaps and lines show up at the
    edges; a median, because ink covers well under half of a cell's centre."""
    n, h, w, _ = cells.shape
    my, mx = int(h * BG_MARGIN), int(w * BG_MARGIN)
    step = 2 if min(h, w) >= 16 else 1  # every other pixel: same vote, a quarter of the sorting
    centre = cells[:, my : h - my : step, mx : w - mx : step].reshape(n, -1, 3)
    return np.median(centre, axis=1)


def ink_maps(cells: np.ndarray) -> np.ndarray:
    """(N, h, w, 3) -> (N, h, w) uint8 difference from each crop's background: ink is bright."""
    n, h, w, _ = cells.shape
    diff = np.empty_like(cells)
    # One OpenCV call per crop against its background scalar beats any whole-batch
    # broadcast here (numpy's, and building a background image, are 2-4x slower).
    for cell, bg, out in zip(cells, np.round(background_colours(cells)).tolist(), diff):
        cv2.absdiff(cell, tuple(bg), dst=out)
    planes = diff.reshape(n * h, w, 3)
    return cv2.max(cv2.max(planes[..., 0], planes[..., 1]), planes[..., 2]).reshape(n, h, w)


def shrink(cells: np.ndarray) -> np.ndarray:
    """(N, h, w, 3) -> the same crops halved (2x2 block averages) until under 2 * WORK_HEIGHT high.

    Each halving is one resize of the stacked crops (blocks never straddle two crops: an odd
    last row or column, edge pixels that hold no number, is dropped first)."""
    n, h, w, _ = cells.shape
    while h >= 2 * WORK_HEIGHT:
        h, w = h // 2, w // 2
        stacked = np.ascontiguousarray(cells[:, : 2 * h, : 2 * w]).reshape(n * 2 * h, 2 * w, 3)
        cells = cv2.resize(stacked, (w, n * h), interpolation=cv2.INTER_AREA).reshape(n, h, w, 3)
    return cells


def ink_masks(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, h, w) ink maps -> masks of each number's strokes as a mosaic (the crops stacked, a
    blank row after each: (N * (h + 1), w) uint8) and each crop's ink box (N, 4) as y0, y1, x0, x1
    (y1 == 0: no ink, the cell is empty)."""
    n, h, w = ink.shape
    peak = ink.reshape(n, -1).max(axis=1).astype(np.int32)
    # A low threshold: a grid line or a bold stroke may set the peak, and a light font's
    # strokes must still be whole. Noise this lets in is small, or touches the edge.
    threshold = np.where(peak >= MIN_CONTRAST, np.maximum(MIN_CONTRAST // 2, peak // INK_LEVEL), 255)
    # One connected-components pass over the mosaic: the blank rows keep crops apart.
    mosaic = np.zeros((n, h + 1, w), np.uint8)
    mosaic[:, :h] = ink > threshold[:, None, None].astype(np.uint8)
    count, labels, stats = components(mosaic.reshape(n * (h + 1), w))
    x, y_abs, bw, bh, area = (stats[1:, i] for i in range(5))
    crop, y = np.divmod(y_abs, h + 1)  # which crop, and the position inside it
    touches = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    line_like = (bw < EDGE_THIN * w) | (bh < EDGE_THIN * h) | (bw > EDGE_SPAN * w) | (bh > EDGE_SPAN * h)
    # A number reaches into the crop's centre; corners and ends of lines at the edge do not.
    my, mx = h * BG_MARGIN, w * BG_MARGIN
    off_centre = (x + bw <= mx) | (x >= w - mx) | (y + bh <= my) | (y >= h - my)
    # Ink mostly in the border band is a line, a corner of a frame or a neighbour's edge,
    # touching the crop or a pixel or two in from it; a number's ink is mostly inside.
    band = max(1, int(EDGE_BAND * min(h, w)))
    crops = labels.reshape(n, h + 1, w)[:, :h]
    strips = (crops[:, :band], crops[:, h - band :], crops[:, band : h - band, :band], crops[:, band : h - band, w - band :])
    in_band = np.bincount(np.concatenate([s.ravel() for s in strips]), minlength=count)
    at_edge = in_band[1:] * 2 > area
    kept = (area >= max(2.0, SPECK_AREA * h * w)) & ~at_edge & ~(touches & (line_like | off_centre))
    keep = np.zeros(count, np.uint8)
    keep[1:] = kept
    # Each crop's ink box: the union of its kept components' boxes.
    boxes = np.zeros((n, 4), np.int64)
    boxes[:, 0], boxes[:, 2] = h, w
    k = crop[kept]
    np.minimum.at(boxes[:, 0], k, y[kept])
    np.maximum.at(boxes[:, 1], k, (y + bh)[kept])
    np.minimum.at(boxes[:, 2], k, x[kept])
    np.maximum.at(boxes[:, 3], k, (x + bw)[kept])
    return np.take(keep, labels), boxes


def glyphs(ink: np.ndarray, masks: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ink maps, stroke-mask mosaic and ink boxes -> (model inputs (M, S, S) float32, has-ink flag per crop).

    The strokes keep their anti-aliased rim (the mask dilated by a pixel); everything
    else is dropped; the ink's box is scaled into INK_BOX, aspect kept, and centred.
    All crops are resampled by one bilinear remap of the mosaic."""
    n, h, w = ink.shape
    rows = h + 1  # mosaic rows per crop
    source = np.zeros((n, rows, w), np.uint8)
    source[:, :h] = ink
    kept = cv2.multiply(source.reshape(n * rows, w), cv2.dilate(masks, _RIM), dtype=cv2.CV_32F)
    has_ink = boxes[:, 1] > 0
    idx = np.flatnonzero(has_ink)
    if len(idx) == 0:
        return np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.float32), has_ink
    y0, y1, x0, x1 = boxes[idx].T
    gh, gw = y1 - y0, x1 - x0
    scale = INK_BOX / np.maximum(gh, gw)
    nh, nw = np.maximum(1, np.round(gh * scale)), np.maximum(1, np.round(gw * scale))
    oy, ox = (INPUT_SIZE - nh) // 2, (INPUT_SIZE - nw) // 2
    # Output pixel centre -> source coordinate inside the ink box (clamped: the box's edge
    # repeats, as in cv2.resize), then into the mosaic.
    centres = np.arange(INPUT_SIZE, dtype=np.float32) + 0.5
    sy = (centres - oy[:, None]) / scale[:, None] - 0.5
    sx = (centres - ox[:, None]) / scale[:, None] - 0.5
    in_y = (centres >= oy[:, None]) & (centres < (oy + nh)[:, None])
    in_x = (centres >= ox[:, None]) & (centres < (ox + nw)[:, None])
    sy = np.clip(sy, 0, (gh - 1)[:, None]) + (y0 + idx * rows)[:, None]
    sx = np.clip(sx, 0, (gw - 1)[:, None]) + x0[:, None]
    m, size = len(idx), INPUT_SIZE
    map_y = np.broadcast_to(sy[:, :, None], (m, size, size)).astype(np.float32)
    map_x = np.broadcast_to(sx[:, None, :], (m, size, size)).astype(np.float32)
    out = np.empty((m, size, size), np.float32)
    # remap works in 16-bit fixed point: keep each call's source rows within its range.
    step = max(1, 30000 // rows)
    for a in range(0, m, step):
        lo, hi = int(idx[a]) * rows, (int(idx[min(a + step, m) - 1]) + 1) * rows
        out[a : a + step] = cv2.remap(
            kept[lo:hi], map_x[a : a + step].reshape(-1, size), (map_y[a : a + step] - lo).reshape(-1, size),
            cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
        ).reshape(-1, size, size)
    out *= in_y[:, :, None] & in_x[:, None, :]
    peak = out.reshape(m, -1).max(axis=1)
    out /= np.maximum(peak, 1.0)[:, None, None]
    return out, has_ink


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
        ink = ink_maps(shrink(np.stack([cells[i] for i in indices])))
        inputs, has_ink = glyphs(ink, *ink_masks(ink))
        for i, x in zip(np.asarray(indices)[has_ink], inputs):
            results[i] = x
    inputs = [r for r in results if r is not None]
    arr = np.stack(inputs)[..., None] if inputs else np.zeros((0, INPUT_SIZE, INPUT_SIZE, 1), np.float32)
    return arr, [r is None for r in results]


def normalize_cell(cell: np.ndarray) -> np.ndarray | None:
    """One crop -> (S, S) float32 in [0, 1], or None when the cell is empty."""
    inputs, empty = normalize_batch([cell])
    return None if empty[0] else inputs[0, :, :, 0]
