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
CHIPS_FLAGGED = 0.05

# Framework CSS, a header column of words, outlined rings, per-cell frames, a wiki table, a table at the
# width of its page (wide cells), a strip whose empty chips are drawn as nothing, chips with a gradient's shine.
LOOKS = ("bootstrap-striped", "roulette-rings", "browser-border", "wikitable", "roulette-led", "bootstrap-fluid",
         "last-numbers-strip", "roulette-chips")


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    return out, render([BY_NAME[n] for n in LOOKS], 2, 0, out)


def test_every_look_is_read_with_its_shape_given(gallery):
    out, pictures = gallery
    reader = TableReader.from_settings(ModelSettings())
    for name in LOOKS:
        tally = Tally()
        for pic in (p for p in pictures if p.look == name):
            tally.add(score(reader, pic, out, shape_given=True))
        assert tally.refused == 0 and tally.wrong_unflagged == 0, (name, tally)
        # Chips are still above the bar's 2% flagged (README, the looks gallery): held to what they do now.
        most_flagged = CHIPS_FLAGGED if name == "roulette-chips" else 0.02
        assert tally.accuracy >= 0.995 and tally.flagged_share <= most_flagged, (name, tally)


def test_pages_use_the_vendored_css_and_label_headers():
    import numpy as np

    look = BY_NAME["bootstrap"]
    v = variant(look, np.random.default_rng(3))
    page = page_html(look, v)
    assert "bootstrap-5.3.9/bootstrap.min.css" in page and 'id="board"' in page
    if v.col_header is Header.WORDS:
        assert "Spin 1" in page
