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
