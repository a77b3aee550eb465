"""The labels dataset and the pure picture helpers of `robot review`."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from recognizer.labels import CLASSES
from recognizer.labelset import (
    FIELDS,
    NOT_A_NUMBER,
    BadLabel,
    check_label,
    label_id,
    run_source,
)
from recognizer.table import Box, Cell, Table
from robot.review.pictures import context_view, crop_box, histogram_bars, overlay_cells
from robot.review.store import LabelStore, class_counts
from tablebot.errors import DataError


def crop(value: int = 0) -> np.ndarray:
    image = np.full((20, 30, 3), 255, np.uint8)
    image[5:15, 10 + value % 10 : 12 + value % 10] = 0
    return image


def rows_of(folder) -> list[dict]:
    with open(folder / "labels.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("text, label", [("0", 0), ("36", 36), (" 7 ", 7), ("not_a_number", NOT_A_NUMBER)])
def test_check_label_accepts_numbers_and_not_a_number(text, label):
    assert check_label(text) == label


@pytest.mark.parametrize("text", ["37", "ab", "", "  ", "05", "-1", "3.5", "1e1", "+3", "\u0663", "\uff13", "\u00b3"])
def test_check_label_refuses_with_a_message_that_says_what_to_type(text):
    with pytest.raises(BadLabel, match="0 to 36"):
        check_label(text)


def test_label_id_is_stable_and_differs_per_cell():
    a = run_source("20240101T000000Z-abc123", "light__main", 1, 2)
    assert a == "run:20240101T000000Z-abc123/light__main:1,2"
    assert label_id(a) == label_id(a)
    assert label_id(a) != label_id(run_source("20240101T000000Z-abc123", "light__main", 2, 1))
    assert len(label_id(a)) == 16 and int(label_id(a), 16) >= 0


def test_put_writes_image_and_row_and_relabelling_updates_the_row(tmp_path):
    store = LabelStore(tmp_path)
    first = store.put("image:t.png:0,0", crop(1), 5, labelled_at="2024-01-01T00:00:00Z")
    store.put("image:t.png:0,1", crop(2), NOT_A_NUMBER)
    again = store.put("image:t.png:0,0", crop(1), 6)

    rows = rows_of(tmp_path)
    assert list(rows[0]) == list(FIELDS)
    assert [(r["source"], r["label"]) for r in rows] == [("image:t.png:0,0", "6"), ("image:t.png:0,1", NOT_A_NUMBER)]
    assert again.id == first.id and rows[0]["image"] == f"cells/{first.id}.png"
    assert (tmp_path / rows[0]["image"]).is_file()
    assert rows[0]["labelled_at"].endswith("Z") and rows[0]["labelled_at"] != "2024-01-01T00:00:00Z"
    assert not list(tmp_path.rglob("*.tmp")), "atomic writes leave no temp files"

    reloaded = LabelStore(tmp_path)
    assert [r.label for r in reloaded.records()] == [6, NOT_A_NUMBER]


def test_restore_undoes_a_new_label_and_a_relabel(tmp_path):
    store = LabelStore(tmp_path)
    old = store.put("s1", crop(), 3)
    store.put("s1", crop(), 4)
    store.restore(old.id, old)
    assert LabelStore(tmp_path).get(old.id).label == 3

    new = store.put("s2", crop(), 9)
    image = store.image_path(new)
    store.restore(new.id, None)
    assert new.id not in LabelStore(tmp_path) and not image.exists()


def test_a_hand_broken_labels_file_is_refused_with_its_line(tmp_path):
    (tmp_path / "labels.csv").write_text("id,label,image,source,labelled_at\nabc,37,cells/abc.png,s,2024-01-01T00:00:00Z\n")
    with pytest.raises(DataError, match="line 2.*fix or delete"):
        LabelStore(tmp_path)
    (tmp_path / "labels.csv").write_text("id,label\n")
    with pytest.raises(DataError, match="header must be"):
        LabelStore(tmp_path)


def test_class_counts_has_every_class_and_not_a_number(tmp_path):
    store = LabelStore(tmp_path)
    for i, label in enumerate([0, 0, 36, NOT_A_NUMBER]):
        store.put(f"s{i}", crop(), label)
    counts = class_counts(store.records())
    assert list(counts) == [*CLASSES, NOT_A_NUMBER]
    assert counts[0] == 2 and counts[36] == 1 and counts[NOT_A_NUMBER] == 1 and counts[5] == 0


def test_histogram_bars_scale_to_the_tallest():
    bars = histogram_bars({"a": 4, "b": 0, "c": 2}, width=300, height=100)
    assert [b.height for b in bars] == [100, 0, 50]
    assert [b.y for b in bars] == [0, 100, 50]
    assert bars[0].x < bars[1].x < bars[2].x and all(b.width > 0 for b in bars)
    assert histogram_bars({"a": 0}, 10, 10)[0].height == 0  # no division by zero on an empty set


def test_crop_and_context_are_copies_clipped_to_the_image():
    image = np.arange(40 * 60 * 3, dtype=np.uint32).reshape(40, 60, 3).astype(np.uint8)
    before = image.copy()
    assert crop_box(image, Box(10, 5, 20, 10)).shape == (10, 20, 3)
    assert np.array_equal(crop_box(image, Box(10, 5, 20, 10)), image[5:15, 10:30])
    assert crop_box(image, Box(50, 30, 20, 20)).shape == (10, 10, 3)
    view = context_view(image, Box(0, 0, 10, 10))
    assert view.shape == (20, 20, 3)
    assert np.array_equal(image, before)


def test_overlay_cells_are_placed_in_percent_and_carry_their_state():
    cells = (
        Cell(0, 0, 7, 0.99, Box(0, 0, 50, 20)),
        Cell(0, 1, 8, 0.40, Box(50, 0, 50, 20), needs_review=True),
        Cell(1, 0, None, 1.0, Box(0, 20, 50, 20)),
        Cell(1, 1, 9, 1.0, Box(50, 20, 50, 20), confirmed=True),
    )
    out = overlay_cells(Table(2, 2, cells), 100, 40)
    assert [(o.left, o.top, o.width, o.height) for o in out][1] == (50.0, 0.0, 50.0, 50.0)
    assert [o.state for o in out] == ["plain", "flagged", "plain", "confirmed"]
    assert [o.text for o in out] == ["7", "8", "", "9"]


def test_what_the_store_writes_is_what_finetune_reads(tmp_path):
    labelled = pytest.importorskip("recognizer.training.labelled")
    store = LabelStore(tmp_path)
    store.put("image:t.png:0,0", crop(3), 17)
    store.put("image:t.png:0,1", crop(4), NOT_A_NUMBER)
    rows = labelled.read_label_rows(tmp_path)
    assert [(r.label, r.source) for r in rows] == [(17, "image:t.png:0,0"), (NOT_A_NUMBER, "image:t.png:0,1")]
    assert rows[0].image == f"cells/{label_id('image:t.png:0,0')}.png"
    assert labelled.load_labelled(tmp_path).ids == [label_id("image:t.png:0,0")]
