"""Peak memory of reading one picture is bounded for any picture under model.max_pixels: the bound the
README states, measured in a fresh process (ru_maxrss) on a table, a photo-like texture and noise."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from tests.tables import Look, random_values, render

pytestmark = pytest.mark.slow

PIXELS = 39_000_000  # just under the default model.max_pixels (40 MP)
BYTES_PER_PIXEL = 12  # the README's bound: the read adds at most this much over the decoded picture ...
CHIP_BYTES_PER_PIXEL = 32  # ... and this much up to chips.MAX_PIXELS, where a picture may be looked at as chips

MEASURE = textwrap.dedent("""
    import resource, sys
    from recognizer.errors import InputImageError
    from recognizer.imageio import read_image
    from recognizer.predictor import default_reader
    from tests.tables import Look, random_values, render
    reader = default_reader()
    reader.read(render(random_values(), Look("light")))  # model loaded and warmed up
    image = read_image(sys.argv[1], 40_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        reader.read(image)
    except InputImageError as exc:
        print("refused:", exc, file=sys.stderr)
    print(image.shape[0] * image.shape[1], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
""")


def picture(kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "table":
        small = render(random_values(), Look("light"))
    elif kind == "texture":  # smooth blobs with grain, like a photo
        small = cv2.resize(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (1600, 1200), interpolation=cv2.INTER_CUBIC)
        small = cv2.add(small, rng.integers(0, 40, small.shape, dtype=np.uint8))
    else:
        small = rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    f = (PIXELS / (small.shape[0] * small.shape[1])) ** 0.5
    return cv2.resize(small, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST if kind == "noise" else cv2.INTER_LINEAR)


@pytest.mark.parametrize("kind", ["table", "texture", "noise"])
def test_reading_a_picture_at_max_pixels_stays_within_the_bound(kind, tmp_path):
    path = tmp_path / f"{kind}.png"
    cv2.imwrite(str(path), picture(kind))
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True)
    pixels, added = map(int, out.stdout.split())
    assert pixels > 0.95 * PIXELS
    assert added <= BYTES_PER_PIXEL * pixels, f"{kind}: {added / 1e6:.0f} MB over {pixels / 1e6:.0f} MP ({out.stderr[-300:]})"


@pytest.mark.parametrize("kind", ["texture", "noise"])
def test_a_picture_small_enough_to_be_looked_at_as_chips_stays_within_its_bound(kind, tmp_path):
    """Up to chips.MAX_PIXELS a picture whose marks make no grid is looked at as chips (the Hough
    transform at each pitch, the outlines' edges in floats): the README's bound there is
    CHIP_BYTES_PER_PIXEL, at most 256 MB at 8 MP. Noise, the worst, measured 23-24."""
    from recognizer.chips import MAX_PIXELS

    small = picture(kind)
    f = (0.99 * MAX_PIXELS / (small.shape[0] * small.shape[1])) ** 0.5
    path = tmp_path / f"{kind}.png"
    cv2.imwrite(str(path), cv2.resize(small, None, fx=f, fy=f, interpolation=cv2.INTER_AREA))
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True)
    pixels, added = map(int, out.stdout.split())
    assert 0.95 * MAX_PIXELS < pixels <= MAX_PIXELS
    assert added <= CHIP_BYTES_PER_PIXEL * pixels, f"{kind}: {added / 1e6:.0f} MB over {pixels / 1e6:.1f} MP"
