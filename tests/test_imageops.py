import numpy as np
import pytest

from recognizer.imageops import components


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
