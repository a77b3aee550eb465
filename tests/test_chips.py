import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.chips import SEARCH_PITCH, chip_crops, faces_text_height, find_chips, lattice_lines, shrunk_lattice_at
from recognizer.errors import SegmentationError
from recognizer.predictor import prepare
from recognizer.settings import DEFAULT_MODEL, TableShape

DATA = Path(__file__).parent / "data"


def test_a_lattices_lines_are_its_chips_medians_with_empty_lines_filled_in_at_its_pitch():
    # Three columns of chips at a 40 px pitch, a column of empty places (no chip found) between the
    # second and the third, a pixel or two of jitter.
    xs = np.array([20, 21, 19, 60, 61, 59, 141, 140, 139, 181], float)
    assert lattice_lines(xs, radius=14) == pytest.approx([20, 60, 100, 140, 181], abs=1)
    # Steps of one and a half pitches (a header's circle, or two lattices) are no lattice.
    assert lattice_lines(np.array([20, 60, 120, 160], float), radius=14) is None


def test_no_lattice_is_found_where_there_are_no_chips():
    page = np.full((300, 400), 240, np.uint8)
    cv2.putText(page, "12  7  30", (20, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    assert find_chips(page, TableShape(rows=4, cols=6)) is None
    assert find_chips(page, TableShape()) is None


def test_without_the_shape_the_lattice_is_found_at_its_own_pitch_where_it_covers_the_picture():
    """Outlined circles at a 60 px pitch, 3x4, a header's words above them: found without a shape,
    at the chips' own size (not their faces', a circle at the same places). The same circles in a
    corner of a picture four times as large are no table of chips."""
    page = np.full((40 + 3 * 60, 4 * 60), 30, np.uint8)
    cv2.putText(page, "Spin  Round", (10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 200, 2)
    for r in range(3):
        for c in range(4):
            centre = (30 + 60 * c, 70 + 60 * r)
            cv2.circle(page, centre, 25, 200, 3)
            cv2.circle(page, centre, 17, 120, -1)  # the face
            cv2.putText(page, str(10 + r * 4 + c), (centre[0] - 11, centre[1] + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        255, 1, cv2.LINE_AA)
    chips = find_chips(page, TableShape(skip_rows=1))
    assert chips is not None and (chips.rows, chips.cols) == (3, 4)
    assert 23 <= chips.radius <= 28  # the outline (25 px, 3 thick), not the face (17 px)
    assert np.abs(chips.centres - [(30 + 60 * c, 70 + 60 * r) for r in range(3) for c in range(4)]).max() <= 2
    corner = np.full((2 * page.shape[0], 2 * page.shape[1]), 30, np.uint8)
    corner[: page.shape[0], : page.shape[1]] = page
    assert find_chips(corner, TableShape()) is None


def test_large_chips_are_looked_for_in_the_picture_shrunk_and_placed_in_its_full_size():
    """The same kind of lattice at a 130 px pitch (above SEARCH_PITCH): looked for shrunk, its chips
    mapped back to the picture's pixels within a shrunk pixel or two, and found again at full size."""
    pitch, radius = 130, 54
    page = np.full((3 * pitch, 4 * pitch), 30, np.uint8)
    truth = [(pitch // 2 + pitch * c, pitch // 2 + pitch * r) for r in range(3) for c in range(4)]
    for i, centre in enumerate(truth):
        cv2.circle(page, centre, radius, 200, 6)
        cv2.circle(page, centre, 36, 120, -1)
        cv2.putText(page, str(10 + i), (centre[0] - 24, centre[1] + 12), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 255, 2)
    assert pitch > SEARCH_PITCH
    shrunk = shrunk_lattice_at(page, cv2.medianBlur(page, 3), pitch)
    assert shrunk is not None and (shrunk[0].rows, shrunk[0].cols) == (3, 4)
    assert np.abs(shrunk[0].centres - truth).max() <= 2 * pitch / SEARCH_PITCH
    chips = find_chips(page, TableShape())
    assert chips is not None and (chips.rows, chips.cols) == (3, 4)
    assert np.abs(chips.centres - truth).max() <= 2 and abs(chips.radius - radius) <= 3


def test_chip_faces_hold_the_number_and_none_of_the_rim():
    """Casino chips drawn with a striped rim and an inner ring: the face crop keeps the number and
    paints everything from the ring outwards the face's own level."""
    page = np.full((3 * 60, 4 * 60), 30, np.uint8)
    for r in range(3):
        for c in range(4):
            centre = (30 + 60 * c, 30 + 60 * r)
            cv2.circle(page, centre, 25, 200, -1)  # the rim's white
            for a in range(0, 360, 45):  # its dark stripes
                cv2.ellipse(page, centre, (25, 25), 0, a, a + 22, 90, -1)
            cv2.circle(page, centre, 19, 120, -1)  # the face
            cv2.circle(page, centre, 16, 230, 1)  # the inner ring
            cv2.putText(page, str(10 + r * 4 + c), (centre[0] - 11, centre[1] + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        255, 1, cv2.LINE_AA)
    chips = find_chips(page, TableShape(rows=3, cols=4))
    assert chips is not None and chips.rows == 3 and chips.cols == 4
    assert np.abs(chips.centres - [(30 + 60 * c, 30 + 60 * r) for r in range(3) for c in range(4)]).max() <= 2
    faces = chip_crops(page, chips)
    size = faces.shape[1]
    yy, xx = np.mgrid[:size, :size] - size // 2
    ring = np.abs(np.hypot(xx, yy) - 16) <= 1
    assert (faces[:, ring] < 200).all()  # the inner ring is gone ...
    assert (faces.reshape(len(faces), -1).max(axis=1) >= 200).all()  # ... the number is not
    assert 6 <= faces_text_height(faces) <= 14


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model yet")
def test_small_casino_chips_are_read_chip_by_chip_where_their_marks_make_no_grid():
    """A real screenshot (the gallery's casino chips, 8x15, 11 px at 1.25x, JPEG q75): the rims'
    stripes join the numbers' inner rings, and the marks make no grid (refused as no table, with
    the shape given). Found as circles on a lattice of that shape and read on their faces, the
    cells are right or flagged."""
    from recognizer.imageio import read_image
    from recognizer.predictor import default_reader

    image = read_image(DATA / "casino-chips-small-1.25x-q75.jpg", 50_000_000)
    shape = TableShape(rows=8, cols=15, skip_rows=1, skip_cols=1)
    with pytest.raises(SegmentationError):
        prepare(image, shape)
    table = default_reader().read(image, shape)
    truth = json.loads((DATA / "casino-chips-small-1.25x-q75.json").read_text())
    assert table.meta["cell_boxes"] == "chips"
    wrong = [c for c in table if c.value != truth[c.row][c.col]]
    assert len(wrong) <= 3 and all(c.needs_review for c in wrong)
    assert sum(c.needs_review for c in table) <= 6
    # Without the shape, the lattice is looked for at every pitch: the same chips, the same reading.
    alone = default_reader().read(image, TableShape(skip_rows=1, skip_cols=1))
    assert (alone.rows, alone.cols) == (8, 15) and alone.meta["cell_boxes"] == "chips"
    assert alone.to_grid() == table.to_grid()


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model yet")
def test_chips_whose_labels_cannot_be_told_from_them_are_read_as_chips_without_the_shape():
    """A real screenshot (the gallery's casino chips, 10x20, 12 px at 1x, "Round N" row labels and
    column numbers): without a shape, the marks take the rims for the text, and the header's labels
    cannot be told from the first row and column of chips (refused, not shifted). The chips found on a
    lattice at their own pitch, the header is no circle: every cell read, right or flagged."""
    from recognizer.imageio import read_image
    from recognizer.predictor import default_reader

    image = read_image(DATA / "casino-chips-12px-1x-round-labels.png", 50_000_000)
    shape = TableShape(skip_rows=1, skip_cols=1)
    with pytest.raises(SegmentationError, match="header's labels could not be told"):
        prepare(image, shape)
    table = default_reader().read(image, shape)
    truth = json.loads((DATA / "casino-chips-12px-1x-round-labels.json").read_text())
    assert (table.rows, table.cols) == (10, 20) and table.meta["cell_boxes"] == "chips"
    wrong = [c for c in table if c.value != truth[c.row][c.col]]
    assert all(c.needs_review for c in wrong) and len(wrong) <= 2


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model yet")
def test_a_first_column_of_chips_misread_beside_their_labels_is_read_on_the_faces(monkeypatch):
    """A real screenshot's corner (casino chips at 2x, JPEG, "Round 1".."Round 6" close to the first
    column), no shape given: the labels' numbers join the first column's cells, most of which read
    doubtfully, so that column looked like a header's and the table was refused. The picture is a
    lattice of chips of the found shape: read on their faces, the column is data."""
    import recognizer.predictor as predictor
    from recognizer.errors import HeaderTakenForData
    from recognizer.imageio import read_image

    image = read_image(DATA / "casino-chips-round-labels-joined-2x-q70.jpg", 50_000_000)
    shape = TableShape(skip_rows=1, skip_cols=1)
    reader = predictor.default_reader()
    monkeypatch.setattr(predictor.TableReader, "_checked_by_chips", lambda self, image, table, shape: table)
    with pytest.raises(HeaderTakenForData, match="data column 1 looks like header labels"):
        reader.read(image, shape)
    monkeypatch.undo()
    table = reader.read(image, shape)
    truth = [[29, 6, 2, 14], [3, 1, 15, 6], [14, 6, 33, 4], [12, 21, 27, 15], [25, 8, 33, 17], [22, 26, 21, 1]]
    assert (table.rows, table.cols) == (6, 4) and table.meta["chips"]["taken"] >= 3
    assert all(c.value == truth[c.row][c.col] or c.needs_review for c in table)


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model yet")
def test_cells_flagged_among_chips_are_read_again_on_their_faces(monkeypatch):
    """A real screenshot (casino chips, 8x15, 15 px at 1x): the marks make a grid, but a quarter of
    the cells hold a stripe of the rim beside the number and are flagged. Read again chip by chip,
    those cells are read on their faces; where both readings are sure they agree."""
    import recognizer.predictor as predictor
    from recognizer.imageio import read_image

    image = read_image(DATA / "casino-chips-15px-1x-flagged.png", 50_000_000)
    shape = TableShape(rows=8, cols=15, skip_rows=1, skip_cols=1)
    truth = json.loads((DATA / "casino-chips-15px-1x-flagged.json").read_text())
    reader = predictor.default_reader()
    monkeypatch.setattr(predictor.TableReader, "_checked_by_chips", lambda self, image, table, shape: table)
    first = reader.read(image, shape)
    monkeypatch.undo()
    assert len(first.flagged) >= 12  # the first reading alone
    table = reader.read(image, shape)
    wrong = [c for c in table if c.value != truth[c.row][c.col]]
    assert all(c.needs_review for c in wrong) and len(table.flagged) <= 2
    assert table.meta["chips"]["taken"] >= 10


def test_circles_between_large_chips_make_no_lattice_lines():
    """The corner of a real screenshot (casino chips at 2x, JPEG q50, saved again at q85): 7x7 chips
    of 62 px under word headers. The first look for circles, over a wide range of radii, also finds
    some between four chips (their arcs) and on the rims' inner rings: rows half a pitch apart, no
    lattice, and the cells flagged among stripes were never read again. The second look, at the
    chips' own size, makes the lattice alone."""
    from recognizer.imageio import read_image

    luma = cv2.cvtColor(read_image(DATA / "casino-chips-2x-corner-q50-resaved-q85.jpg", 50_000_000), cv2.COLOR_BGR2GRAY)
    chips = find_chips(luma, TableShape(rows=7, cols=7, skip_rows=1, skip_cols=1))
    assert chips is not None
    steps = np.diff(chips.centres.reshape(7, 7, 2), axis=0)[..., 1]
    assert np.abs(steps - 80).max() <= 3  # a chip's row every 80 px


def test_framed_square_tiles_are_no_lattice_of_chips():
    """A real screenshot (a hot/cold board, 4x10, 11 px at 1.5x): the transform finds circles in a
    third of the framed tiles, on a lattice of the board's shape. Read chip by chip, 9 of its 40
    cells were wrong and sure; too few places hold a circle for chips (FOUND_SHARE)."""
    luma = cv2.cvtColor(cv2.imread(str(DATA / "hot-cold-framed-tiles-11px-1.5x.png")), cv2.COLOR_BGR2GRAY)
    assert find_chips(luma, TableShape(rows=4, cols=10, skip_rows=1)) is None


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model yet")
def test_a_chip_reading_that_disagrees_all_over_is_not_taken_for_anything(monkeypatch):
    """The framed tiles above, their false lattice let through (FOUND_SHARE lowered), and a cell of
    the reading from the marks flagged: the chip reading disagrees on many cells both are sure of,
    so no cell takes it and none is flagged on its word."""
    from dataclasses import replace

    import recognizer.chips as chips
    from recognizer.imageio import read_image
    from recognizer.predictor import default_reader

    image = read_image(DATA / "hot-cold-framed-tiles-11px-1.5x.png", 50_000_000)
    shape = TableShape(rows=4, cols=10, skip_rows=1)
    reader = default_reader()
    table = reader.read(image, shape)
    table = table.with_cell(replace(table.cell(0, 0), needs_review=True))
    monkeypatch.setattr(chips, "FOUND_SHARE", 0.25)
    assert find_chips(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), shape) is not None  # the false lattice
    assert reader._checked_by_chips(image, table, shape) is table


def test_a_chip_at_the_pictures_edge_has_its_box_inside_the_picture():
    from recognizer.chips import Chips

    chips = Chips(np.array([[5.0, 30.0], [60.0, 30.0]]), 14.0, 1, 2)
    assert chips.box(0, 50, 70).as_list() == [0, 16, 19, 28]  # cut at the left edge
    assert chips.box(1, 50, 70).as_list() == [46, 16, 24, 28]  # and at the right
