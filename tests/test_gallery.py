"""The looks gallery (bench/gallery) rendered in real Chromium and read by the shipped model: looks
that meet the bar today must keep meeting it (the full per-look report is bench/bench_gallery.py)."""
from __future__ import annotations

import pytest

from bench.bench_gallery import Tally, score
from bench.gallery.looks import BY_NAME, Header, page_html, variant
from bench.gallery.render import render
from recognizer.predictor import TableReader
from recognizer.settings import ModelSettings

pytestmark = pytest.mark.e2e

# Framework CSS, a header column of words, outlined rings, per-cell frames, a wiki table, a table at the
# width of its page (wide cells), a strip whose empty chips are drawn as nothing, chips with a gradient's shine,
# and, of the looks added later, SVG balls in thick rings (numbers a pixel off their rings, small header letters).
LOOKS = ("bootstrap-striped", "roulette-rings", "browser-border", "wikitable", "roulette-led", "bootstrap-fluid",
         "last-numbers-strip", "roulette-chips", "roulette-svg-balls")


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    return out, render([BY_NAME[n] for n in LOOKS], 2, 0, out)


def tallies(gallery, shape_given: bool) -> dict[str, Tally]:
    out, pictures = gallery
    reader = TableReader.from_settings(ModelSettings())
    per_look = {name: Tally() for name in LOOKS}
    for pic in pictures:
        per_look[pic.look].add(score(reader, pic, out, shape_given=shape_given))
    return per_look


def test_every_look_is_read_with_its_shape_given(gallery):
    for name, tally in tallies(gallery, shape_given=True).items():
        assert tally.refused == 0 and tally.wrong_unflagged == 0, (name, tally)
        assert tally.accuracy >= 0.995 and tally.flagged_share <= 0.02, (name, tally)


def test_without_the_shape_no_cell_is_silently_wrong(gallery):
    # Only the header counts given: a table is right, flagged, or refused with the hint to pass its shape.
    for name, tally in tallies(gallery, shape_given=False).items():
        assert tally.wrong_unflagged == 0, (name, tally)


def test_pages_use_the_vendored_css_and_label_headers():
    import numpy as np

    look = BY_NAME["bootstrap"]
    v = variant(look, np.random.default_rng(3))
    page = page_html(look, v)
    assert "bootstrap-5.3.9/bootstrap.min.css" in page and 'id="board"' in page
    if v.col_header is Header.WORDS:
        assert "Spin 1" in page
