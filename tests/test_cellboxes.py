"""Reading given cell boxes (`TableReader.read_boxes`, `recognizer.cellboxes`): arranged from the box tops,
cropped inside, read by the same normaliser and model as `read`, with no segmentation."""
from __future__ import annotations

import random

import numpy as np
import pytest

from recognizer.cellboxes import arrange, check_inside, crop_boxes
from recognizer.errors import NotATableError, SegmentationError
from recognizer.settings import DEFAULT_MODEL, ModelSettings, TableShape
from recognizer.table import Box
from robot.demo.render import table_geometry
from tests.tables import Look, random_values, render


def grid_boxes(rows: int, cols: int, w: int = 30, h: int = 20, jitter: int = 0, seed: int = 0) -> list[Box]:
    rng = random.Random(seed)
    return [Box(c * (w + 4), r * (h + 4) + rng.randint(-jitter, jitter), w, h) for r in range(rows) for c in range(cols)]


def test_arrange_orders_boxes_row_by_row_from_their_tops_not_their_order():
    boxes = grid_boxes(4, 10, jitter=3)
    column_major = [boxes[r * 10 + c] for c in range(10) for r in range(4)]  # a grid with grid-auto-flow: column
    shuffled = random.Random(1).sample(boxes, len(boxes))
    assert arrange(column_major, 4, 10) == boxes
    assert arrange(shuffled, 4, 10) == boxes


def test_arrange_refuses_another_count_or_ragged_rows():
    with pytest.raises(SegmentationError, match=r"^t: 39 cells given, expected 4x10 = 40: check rows/cols"):
        arrange(grid_boxes(4, 10)[:-1], 4, 10, "t")
    with pytest.raises(SegmentationError, match=r"its cells lie in 5 rows of 8, 8, 8, 8, 8 cells, expected 4 rows of 10"):
        arrange(grid_boxes(5, 8), 4, 10, "t")


def test_crops_lie_inside_their_boxes_and_clip_to_the_image():
    image = np.arange(100 * 100, dtype=np.int32).reshape(100, 100)
    inner, edge, outside = crop_boxes(image, [Box(10, 10, 50, 25), Box(90, 90, 20, 20), Box(200, 5, 10, 10)])
    assert inner.shape == (21, 42) and inner[0, 0] == image[12, 14]
    assert edge.shape == (8, 8)
    assert outside.size == 0  # (read_boxes refuses such a box first: `check_inside`)


def test_a_box_outside_the_picture_is_refused_not_read_as_empty():
    check_inside([Box(-1, 0, 11, 10), Box(90, 90, 11, 11)], 100, 100)  # a pixel of rounding
    with pytest.raises(SegmentationError, match=r"^t: 1 of its 2 cells lie outside its 100x80 picture \(one at "
                                                 r"x=95, y=0, 20x10\): select the element that holds all the cells"):
        check_inside([Box(0, 0, 10, 10), Box(95, 0, 20, 10)], 80, 100, "t")


@pytest.fixture(scope="module")
def tiny_reader(tmp_path_factory):
    from recognizer.model import build_model, save_model
    from recognizer.predictor import TableReader

    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    save_model(build_model("seed"), path, {"temperature": 1.0, "arch": "seed"})
    return TableReader.from_settings(ModelSettings(path=path, review_threshold=0.5))


def test_read_boxes_keeps_the_contract_and_refuses_what_read_refuses(tiny_reader):
    values = random_values(4, 10, seed=3)
    look = Look("roulette")
    boxes = [Box(x0, y0, x1 - x0, y1 - y0) for row in table_geometry(4, 10, look.table_look()).boxes
             for x0, y0, x1, y1 in row]
    with pytest.raises(NotATableError):  # the untrained model doubts nearly every cell
        tiny_reader.read_boxes(render(values, look), boxes, TableShape(rows=4, cols=10))
    table = tiny_reader.read_boxes(render(values, look), boxes, TableShape(rows=4, cols=10), source="t",
                                   refuse_unreadable=False)
    assert (table.rows, table.cols, table.source) == (4, 10, "t")
    assert [c.box for c in table] == boxes
    with pytest.raises(SegmentationError, match="needs rows and cols"):
        tiny_reader.read_boxes(render(values, look), boxes, TableShape())


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model yet")
@pytest.mark.parametrize("look", [Look("light", header=True), Look("roulette", scale=2.0), Look("dark")],
                         ids=["light-with-header", "roulette-2x", "dark"])
def test_the_shipped_model_reads_exactly_the_given_boxes(look):
    """Only the data cells' boxes are given, in no order: the header labels are never read, empties stay empty."""
    from recognizer.predictor import TableReader

    values = random_values(6, 9, seed=5, empty_tail=3)
    values[2, 4] = -1
    geo = table_geometry(7 if look.header else 6, 10 if look.header else 9, look.table_look())
    skip = 1 if look.header else 0
    boxes = [Box(x0, y0, x1 - x0, y1 - y0) for row in geo.boxes[skip:] for x0, y0, x1, y1 in row[skip:]]
    given = random.Random(2).sample(boxes, len(boxes))
    table = TableReader.from_settings(ModelSettings()).read_boxes(render(values, look), given,
                                                                  TableShape(rows=6, cols=9))
    truth = [[None if v < 0 else int(v) for v in row] for row in values]
    read = table.to_grid()
    assert all(read[r][c] == truth[r][c] or table.cell(r, c).needs_review for r in range(6) for c in range(9)), read
    assert not table.flagged, table.flagged
    assert [c.box for c in table] == boxes
