"""Cell image -> model input. The one normalising function shared by inference and training.

Polarity and colour are decided per cell: the background is the cell's most common
colour, ink is whatever differs from it. Ink touching the crop edge that looks like a
grid line, a cell gap or a neighbouring stripe is dropped. The ink's bounding box is
scaled (aspect kept) into a fixed box centred in the model input, bright ink on black,
like MNIST. Bump NORMALIZER_VERSION on any change: models record the version they
were trained with and refuse to load under another.
"""
from __future__ import annotations

import cv2
import numpy as np

NORMALIZER_VERSION = 1
INPUT_SIZE = 28
INK_BOX = 22  # the ink is fitted into INK_BOX x INK_BOX inside INPUT_SIZE x INPUT_SIZE

MIN_CONTRAST = 40  # below this max difference from the background, a cell is empty
EDGE_THIN = 0.15  # edge-touching components thinner than this fraction of the crop are line fragments
SPECK_AREA = 0.004  # components smaller than this fraction of the crop area are noise


def background_colour(cell: np.ndarray) -> np.ndarray:
    """Most common colour of the crop (quantised to 3 bits a channel), averaged within its bin."""
    q = (cell >> 5).astype(np.int32)
    keys = (q[..., 0] << 6) | (q[..., 1] << 3) | q[..., 2]
    mode = np.bincount(keys.ravel(), minlength=512).argmax()
    return cell[keys == mode].mean(axis=0)


def ink_map(cell: np.ndarray) -> np.ndarray:
    """Per-pixel difference from the background colour, uint8: ink is bright, whatever its colour."""
    if cell.ndim == 2:
        cell = cell[..., None]
    bg = background_colour(cell)
    return np.abs(cell.astype(np.int16) - bg.astype(np.int16)).max(axis=2).astype(np.uint8)


def ink_mask(ink: np.ndarray) -> np.ndarray | None:
    """Binary mask of the number's ink in a cell's ink map, or None when the cell is empty."""
    peak = int(ink.max())
    if peak < MIN_CONTRAST:
        return None
    mask = (ink > max(MIN_CONTRAST // 2, peak // 2)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    h, w = ink.shape
    keep = np.zeros(n, dtype=bool)
    min_area = max(2.0, SPECK_AREA * h * w)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < min_area:
            continue
        touches = x == 0 or y == 0 or x + bw == w or y + bh == h
        if touches and (bw < EDGE_THIN * w or bh < EDGE_THIN * h or bw > 0.9 * w or bh > 0.9 * h):
            continue  # grid line, cell gap, stripe edge or rounded corner
        keep[i] = True
    if not keep.any():
        return None
    return keep[labels].astype(np.uint8)


def normalize_cell(cell: np.ndarray) -> np.ndarray | None:
    """BGR (or grey) uint8 cell crop -> float32 (INPUT_SIZE, INPUT_SIZE) in [0, 1], or None if empty."""
    if cell.size == 0 or min(cell.shape[:2]) < 4:
        return None
    ink = ink_map(cell)
    mask = ink_mask(ink)
    if mask is None:
        return None
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    # Keep the anti-aliased rim of kept strokes, drop everything else.
    rim = cv2.dilate(mask[y0:y1, x0:x1], np.ones((3, 3), np.uint8))
    glyph = ink[y0:y1, x0:x1].astype(np.float32) * rim
    glyph /= max(float(glyph.max()), 1.0)
    gh, gw = glyph.shape
    scale = INK_BOX / max(gh, gw)
    nh, nw = max(1, round(gh * scale)), max(1, round(gw * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(glyph, (nw, nh), interpolation=interp)
    out = np.zeros((INPUT_SIZE, INPUT_SIZE), np.float32)
    oy, ox = (INPUT_SIZE - nh) // 2, (INPUT_SIZE - nw) // 2
    out[oy : oy + nh, ox : ox + nw] = small
    return np.clip(out, 0.0, 1.0)


def normalize_batch(cells: list[np.ndarray]) -> tuple[np.ndarray, list[bool]]:
    """Normalise many crops: returns (N_nonempty, S, S, 1) inputs and an is-empty flag per crop."""
    inputs, empty = [], []
    for cell in cells:
        x = normalize_cell(cell)
        empty.append(x is None)
        if x is not None:
            inputs.append(x)
    arr = np.stack(inputs)[..., None] if inputs else np.zeros((0, INPUT_SIZE, INPUT_SIZE, 1), np.float32)
    return arr, empty
