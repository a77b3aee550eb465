import cv2
import numpy as np
import pytest

from recognizer.imageops import components, median, row_medians


@pytest.mark.parametrize("shape", [(1, 200_001), (255, 1025), (300, 300)])
def test_every_component_gets_its_own_label_whatever_the_label_width(shape):
    """Isolated pixels on every other row and column: the most components a mask can hold,
    beyond what 16-bit labels can number for the first two shapes."""
    mask = np.zeros(shape, np.uint8)
    mask[::2, ::2] = 1
    count, labels, stats = components(mask)
    expected = mask.sum()
    assert count == expected + 1
    assert len(np.unique(labels[mask == 1])) == expected
    assert (stats[1:, 4] == 1).all()


@pytest.mark.parametrize("n", [1, 2, 7, 100, 301])
def test_medians_are_numpys(n):
    rng = np.random.default_rng(n)
    for values in (rng.integers(0, 256, (5, n)).astype(np.uint8), rng.normal(size=(5, n))):
        assert median(values[0]) == float(np.median(values[0]))
        assert np.array_equal(row_medians(values), np.median(values, axis=1))


def test_near_cores_on_the_mosaics_transpose_is_the_same_as_on_the_mosaic():
    """`near_cores` filters a crop mosaic (tens of pixels wide, thousands high) on its transpose for
    speed: with its symmetric kernels the result is that of OpenCV's filters on the mosaic itself,
    pixel for pixel, the blank row between crops and the borders included."""
    from recognizer import normalize

    rim = np.ones((3, 3), np.uint8)
    rng = np.random.default_rng(7)
    for n, rows, w in ((120, 31, 37), (40, 25, 29)):
        # Strong strokes (bright specks, thickened) on a soft field of weak ink: cores, rims and shine.
        field = cv2.GaussianBlur(rng.integers(0, 160, (n * rows, w), dtype=np.uint8), (7, 7), 2.5)
        strokes = cv2.dilate(((rng.random((n * rows, w)) < 0.01) * 255).astype(np.uint8), rim)
        ink = cv2.max(field, strokes).reshape(n, rows, w)
        ink[:, rows - 1] = 0
        mask = (ink > 70).view(np.uint8)
        h = rows - 1
        my, mx = int(h * normalize.BG_MARGIN), int(w * normalize.BG_MARGIN)
        peak = ink[:, my : h - my, mx : w - mx].reshape(n, -1).max(axis=1)
        core = (mask & (ink > (peak * normalize.CORE_INK).astype(np.uint8)[:, None, None])).view(np.uint8)
        near = cv2.dilate(core.reshape(-1, w), rim).reshape(n, rows, w)
        near[:, rows - 1] = 0
        patches = cv2.morphologyEx((mask & (1 - near)).reshape(-1, w), cv2.MORPH_OPEN, rim).reshape(n, rows, w)
        slope = cv2.morphologyEx(ink.reshape(-1, w), cv2.MORPH_GRADIENT, rim).reshape(n, rows, w)
        smooth = (slope < (peak * normalize.SMOOTH_INK).astype(np.uint8)[:, None, None]).view(np.uint8)
        expected = mask & (1 - patches) & (1 - ((mask & (1 - core)) & smooth))
        got = normalize.near_cores(ink, mask)
        assert got.flags.c_contiguous and got.shape == ink.shape and np.array_equal(got, expected)
        assert 0 < expected.sum() < mask.sum()  # something is kept and something dropped


def test_pieces_nested_are_found_within_their_crop_only_as_by_comparing_every_pair():
    """`nested` compares only the pieces of one crop; the answer is that of comparing all pairs."""
    from recognizer.normalize import INNER_HEIGHT, nested

    rng = np.random.default_rng(3)
    n = 300
    crop = np.sort(rng.integers(0, 40, n))
    x, y = rng.integers(0, 30, n), rng.integers(0, 30, n)
    w, h = rng.integers(1, 25, n), rng.integers(1, 25, n)
    outer, inner = np.flatnonzero(rng.random(n) < 0.6), np.flatnonzero(rng.random(n) < 0.7)
    cx2, cy2 = (2 * x + w)[inner][None, :], (2 * y + h)[inner][None, :]
    X, Y, W, H = (a[outer, None] for a in (x, y, w, h))
    inside = ((crop[outer, None] == crop[inner][None, :]) & (2 * X < cx2) & (cx2 < 2 * (X + W))
              & (2 * Y < cy2) & (cy2 < 2 * (Y + H)))
    held = inside & (h[inner][None, :] * INNER_HEIGHT[1] < H) & (h[inner][None, :] > INNER_HEIGHT[0] * H)
    got_inside, got_held = nested(crop, x, y, w, h, outer, inner)
    assert inside.any() and np.array_equal(got_inside, inside) and np.array_equal(got_held, held)
    assert nested(crop, x, y, w, h, outer[:0], inner)[0].shape == (0, len(inner))
