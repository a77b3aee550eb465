from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.errors import SegmentationError
from recognizer.normalize import normalize_cell
from recognizer.segment import crop_cells, find_grid, fits, halves_joined, header_merged, locate, locate_at
from recognizer.settings import TableShape
from tests.tables import Look, cell_centre, random_values, render

LOOKS = [
    Look("light"),
    Look("light", line=3, font="DejaVuSerif.ttf"),
    Look("dark", size=12, cell_w=30, cell_h=20),
    Look("roulette", font="DejaVuSans-Bold.ttf"),
    Look("zebra", font="LiberationSans-Regular.ttf"),
    Look("plain", font="LiberationMono-Regular.ttf", cell_w=40),
    Look("light", align="left"),
    Look("roulette", align="right", size=16, cell_w=40, cell_h=28),
    Look("zebra", align="left", scale=2.0),
    Look("light", scale=0.6, size=16, cell_w=34, cell_h=22),  # ~13 px cells
    Look("dark", jpeg=60),
    Look("roulette", scale=2.0, jpeg=70),
]


def screenshot(name: str) -> np.ndarray:
    """A real screenshot from tests/data, in grey."""
    return cv2.imread(str(Path(__file__).parent / "data" / name), cv2.IMREAD_GRAYSCALE)


def check_cells(image, grid, values):
    """Each found cell holds ink exactly where the table has a number."""
    crops = crop_cells(image, grid)
    for (r, c), crop in zip(np.ndindex(values.shape), crops):
        assert (normalize_cell(crop) is None) == (values[r, c] < 0), (r, c, values[r, c])


@pytest.mark.parametrize("look", LOOKS, ids=lambda l: f"{l.style}-{l.align}-{l.font}-x{l.scale}-q{l.jpeg}")
def test_finds_grid_in_every_look(look):
    values = random_values(seed=hash(look.style) % 100, empty_tail=4)
    image = render(values, look)
    grid = find_grid(image, TableShape(rows=8, cols=15))
    assert grid.shape == (8, 15)
    check_cells(image, grid, values)
    # Without a given shape the same grid is found, and on luminance alone (what the reader uses).
    assert find_grid(image).shape == (8, 15)
    luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    check_cells(luma, find_grid(luma, TableShape(rows=8, cols=15)), values)


def test_cell_boxes_contain_their_numbers():
    look = Look("light", cell_w=40, cell_h=30)
    image = render(random_values(), look)
    grid = find_grid(image, TableShape(rows=8, cols=15))
    for r in range(8):
        for c in range(15):
            box = grid.box(r, c)
            cx, cy = cell_centre(r, c, 8, 15, look)
            assert box.x < cx < box.x + box.w and box.y < cy < box.y + box.h


def test_shape_mismatch_is_an_error_not_a_misalignment():
    image = render(random_values(), Look("light"))
    with pytest.raises(SegmentationError, match="found 8x15 cells.*expected 8x14"):
        find_grid(image, TableShape(rows=8, cols=14))


def test_header_rows_and_columns_are_skipped():
    values = random_values(rows=5, cols=6)
    image = render(values, Look("light", header=True, cell_w=40))
    grid = find_grid(image, TableShape(rows=5, cols=6, skip_rows=1, skip_cols=1))
    assert grid.shape == (5, 6)
    check_cells(image, grid, values)


def test_empty_inner_column_is_filled_from_the_pitch():
    values = random_values(rows=6, cols=8)
    values[:, 3] = -1
    image = render(values, Look("zebra"))
    grid = find_grid(image, TableShape(rows=6, cols=8))
    check_cells(image, grid, values)


def test_blank_image_has_no_table():
    with pytest.raises(SegmentationError, match="no table found"):
        find_grid(np.full((100, 200, 3), 255, np.uint8))


@pytest.mark.parametrize("style", ["zebra", "roulette", "light"])
def test_sparse_last_row_is_kept(style):
    values = random_values(seed=5, empty_tail=12)  # only 3 numbers in the last row
    image = render(values, Look(style))
    grid = find_grid(image)  # no shape given: the sparse row must still be found
    assert grid.shape == (8, 15)
    check_cells(image, grid, values)


def test_heldout_tables_all_segment():
    """Fonts and looks the project never tuned on (italics, tight rounded cells, JPEG, 2x)."""
    from bench.heldout_tables import make_tables

    for s in make_tables(40, seed=11):
        luma = cv2.cvtColor(s.image, cv2.COLOR_BGR2GRAY)
        grid = find_grid(luma, TableShape(rows=8, cols=15))
        check_cells(luma, grid, np.array([[-1 if v is None else v for v in row] for row in s.values]))


@pytest.mark.parametrize("look", [Look("light", scale=2.0), Look("roulette", scale=2.5, jpeg=80), Look("zebra", scale=3.0)],
                         ids=lambda l: f"{l.style}-x{l.scale}")
def test_high_dpi_tables_segmented_shrunk_match_full_size(look):
    """With the shape given, tall rows are located on a shrunk copy: same cells as at full size."""
    values = random_values(seed=3, empty_tail=5)
    image = render(values, look)
    shrunk = find_grid(image, TableShape(rows=8, cols=15))
    full = find_grid(image)  # no shape hint: located at full size
    for a, b in ((shrunk.rows, full.rows), (shrunk.cols, full.cols)):
        assert np.abs(np.array(a) - np.array(b)).max() <= look.scale + 1
    check_cells(image, shrunk, values)


def test_numbers_are_joined_per_line_and_by_gap():
    from recognizer.segment import merge_numbers

    # x, y, w, h: "3","6" close together and a lone "7" on line 0; "1","2" on line 1 far apart.
    boxes = np.array([[40, 0, 8, 12], [0, 0, 8, 12], [10, 1, 8, 12], [0, 20, 8, 12], [30, 20, 8, 12]])
    numbers = merge_numbers(boxes, np.array([0, 0, 0, 1, 1]), max_gap=5)
    assert sorted(map(tuple, numbers.tolist())) == [(0, 0, 18, 13), (0, 20, 8, 12), (30, 20, 8, 12), (40, 0, 8, 12)]


def wrapped_label_table(values: np.ndarray, label_gap: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A wide table whose header labels wrap onto two lines ("Spin" over "3", "Round" over "2"),
    left-aligned numbers at the top of tall rows, as a framework table at width 100% draws it.
    Returns the image and each data cell's number centre (x, y)."""
    from PIL import Image, ImageDraw, ImageFont

    from tests.tables import font_path

    font = ImageFont.truetype(font_path("DejaVuSans.ttf"), 18)
    rows, cols = values.shape
    left, top, col_w, row_h = 90, 80, 70, 64
    img = Image.new("L", (left + cols * col_w + 20, top + rows * row_h + 10), 255)
    draw = ImageDraw.Draw(img)
    for c in range(cols):
        draw.text((left + c * col_w, 10), "Spin", font=font, fill=0)
        draw.text((left + c * col_w, 10 + label_gap), str(c + 1), font=font, fill=0)
    centres = []
    for r in range(rows):
        y = top + r * row_h
        draw.text((8, y), "Round", font=font, fill=0)
        draw.text((8, y + label_gap), str(r + 1), font=font, fill=0)
        for c in range(cols):
            draw.text((left + c * col_w, y), str(values[r, c]), font=font, fill=0)
            x0, y0, x1, y1 = draw.textbbox((left + c * col_w, y), str(values[r, c]), font=font)
            centres.append(((x0 + x1) // 2, (y0 + y1) // 2))
    return np.array(img), centres


@pytest.mark.parametrize("shape_given", [True, False])
def test_wrapped_header_labels_make_no_rows_or_columns(shape_given):
    values = np.random.default_rng(5).integers(0, 37, size=(6, 9))
    image, centres = wrapped_label_table(values, label_gap=24)
    shape = TableShape(rows=6 if shape_given else None, cols=9 if shape_given else None, skip_rows=1, skip_cols=1)
    grid = find_grid(image, shape)
    assert grid.shape == (6, 9)
    for (r, c), (x, y) in zip(np.ndindex(values.shape), centres):
        box = grid.box(r, c)
        assert box.x <= x < box.x + box.w and box.y <= y < box.y + box.h, (r, c)


def test_empty_end_cells_are_added_only_where_the_margins_hold_them():
    from recognizer.segment import ends_filled

    spans = [(10, 30), (60, 80), (110, 130)]  # pitch 50: three numbers, then chips drawn as nothing
    assert ends_filled(spans, 0, 5, 240) == spans + [(160, 180), (210, 230)]  # margins 10 and 10
    assert ends_filled(spans, 0, 5, 160) == spans  # no room for two more: a shape mismatch follows
    # An HTML table as wide as its page gives empty columns only their padding: two narrow ones fit in
    # the room after the last number, not at the pitch; the first number is at the left side (none before).
    squeezed = ends_filled(spans, 0, 5, 190)
    assert squeezed[:3] == spans and len(squeezed) == 5 and 130 < squeezed[3][0] < squeezed[3][1] < squeezed[4][0] < squeezed[4][1] <= 190
    half = [(a + 20, b + 20) for a, b in spans]  # half a cell before: neither way fits, so neither guesses
    assert ends_filled(half, 0, 5, 230) == half
    near = [(a + 10, b + 10) for a, b in spans]  # 10 px further in: too little for an empty cell (pitch / 4)
    squeezed = ends_filled(near, 0, 5, 200)
    assert squeezed[:3] == near and len(squeezed) == 5 and 140 < squeezed[3][0] < squeezed[4][1] <= 200
    assert ends_filled(spans, 0, None, 1000) == spans  # no shape given: nothing is invented
    shifted = [(a + 50, b + 50) for a, b in spans]  # the first chip empty too
    assert ends_filled(shifted, 0, 5, 240) == [(10, 30)] + shifted + [(210, 230)]
    assert ends_filled([(10, 30)], 0, 4, 200) == [(10, 30), (60, 80), (110, 130), (160, 180)]  # one number
    assert ends_filled([(0, 5)] + spans, 1, 4, 190) == [(0, 5)] + spans + [(160, 180)]  # after a header
    # ... but not squeezed in: a header missed leaves its first line of data taken for it, and the room
    # after that would hold a sure empty line (mvp.css's dark table, dark "Spin N" on a bright header).
    assert ends_filled([(0, 5)] + spans, 1, 5, 190) == [(0, 5)] + spans


def test_a_column_split_in_two_is_rejoined_and_close_columns_are_not():
    # An LED board's column of "21"s: digits grouped into two narrow spans a few pixels apart.
    spans = [(43, 85), (131, 172), (217, 260), (305, 347), (392, 434), (479, 521), (566, 609), (654, 696),
             (741, 783), (828, 870), (916, 934), (938, 958), (1003, 1045), (1090, 1132)]
    joined = halves_joined(spans)
    assert len(joined) == len(spans) - 1 and (916, 958) in joined
    tight = [(0, 20), (24, 44), (48, 68), (72, 92), (96, 116)]  # a tight table: gaps all alike
    assert halves_joined(tight) == tight


def test_a_labels_second_line_joins_the_header_row_but_a_tight_first_row_does_not():
    wrapped = [(4, 20), (23, 35), (48, 60), (73, 85), (98, 110), (123, 135)]  # "Spin" / "1", then data
    assert header_merged(wrapped, 1, None, 12.0, parts_narrower=False)[:2] == [(4, 35), (48, 60)]
    tight = [(4, 22), (27, 41), (50, 64), (73, 87), (96, 110), (119, 133)]  # "Spin 1" (descenders), then data
    assert header_merged(tight, 1, None, 13.0, parts_narrower=False) == tight


def test_rings_around_small_numbers_are_located_at_twice_the_size():
    # Small numbers inside 3 px rings a few pixels off them: at 1x each ring and its number are one mark.
    image = np.full((190, 370), 24, np.uint8)
    for r in range(4):
        for c in range(10):
            centre = (20 + 34 * c, 20 + 40 * r)
            cv2.circle(image, centre, 11, 200, 3, cv2.LINE_AA)
            text = str((10 * r + c) % 37)
            (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.3, 1)
            cv2.putText(image, text, (centre[0] - w // 2, centre[1] + h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 230, 1,
                        cv2.LINE_AA)
    assert find_grid(image, TableShape(rows=4, cols=10)).shape == (4, 10)


def test_a_picture_of_a_few_marks_is_called_not_the_table_yet():
    placeholder = np.full((60, 200), 255, np.uint8)
    cv2.putText(placeholder, "loading 12", (5, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    with pytest.raises(SegmentationError, match=r"expected 8x15: so few marks are not such a table .*wait_for"):
        find_grid(placeholder, TableShape(rows=8, cols=15))


def test_the_first_columns_crops_show_nothing_of_the_header_labels_before_it():
    # A tight table: bold labels "Row 10".."Row 13" end a few pixels before a first column of one-digit
    # numbers, while the other columns hold two digits, so equal-sized crops reach back into the labels.
    image = np.full((5 * 30, 76 + 3 * 70), 255, np.uint8)
    values = [[7, 24, 31], [4, 16, 22], [9, 35, 28], [3, 12, 30]]
    for r in range(5):
        y = 22 + 30 * r
        if r == 0:
            for c in range(3):
                cv2.putText(image, f"C{c + 1}", (76 + 70 * c, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
            continue
        cv2.putText(image, f"Row {9 + r}", (4, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 2, cv2.LINE_AA)
        for c, v in enumerate(values[r - 1]):
            cv2.putText(image, str(v), (76 + 70 * c, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
    grid = find_grid(image, TableShape(rows=4, cols=3, skip_rows=1, skip_cols=1))
    crops = crop_cells(image, grid)
    first_column = crops.reshape(4, 3, *crops.shape[1:])[:, 0]
    x0 = grid.cols[0][0] - (grid.cols[0][0] + grid.cols[0][1]) // 2 + crops.shape[2] // 2  # the bound, in a crop
    assert x0 > 2 and (first_column[:, :, : x0 - 2] == first_column[:, :1, :1]).all()  # the labels' tails are gone


def test_a_strip_of_centred_numbers_of_different_widths_counts_its_empty_end_cells():
    """Chips of one size hold "32" and "2": their numbers' edges step irregularly, their centres do not.
    Five chips at a 35 px pitch, then five empty ones drawn as nothing, in a 358 px strip."""
    from recognizer.segment import strip_length

    centres = [8 + 17 + 35 * i for i in range(5)]
    widths = [20, 10, 20, 17, 10]  # "32", "2", "33", "31", "3"
    spans = [(c - w // 2, c + w // 2) for c, w in zip(centres, widths)]
    assert strip_length(spans, 358) == 10
    assert strip_length(spans, 8 + 5 * 35 + 8) is None  # both margins alike: nothing is missing


def test_a_label_word_split_into_spans_of_its_own_is_the_headers():
    # "R", "und" and "1" of "Round 1" (its "o" lost), then data columns 36 px wide at a 58 px pitch.
    spans = [(12, 33), (55, 117), (128, 148)] + [(191 + 58 * i, 227 + 58 * i) for i in range(10)]
    assert header_merged(spans, 1, None, 24.0) == [(12, 148)] + spans[3:]
    # No word: the same columns without the label's pieces are all data.
    data = [(191 + 58 * i, 227 + 58 * i) for i in range(10)]
    assert header_merged([(12, 60)] + data, 1, None, 24.0) == [(12, 60)] + data


def test_a_bold_glyph_with_a_hole_stays_a_mark_and_an_outline_around_a_number_does_not():
    from recognizer.segment import text_boxes, text_mask

    image = np.full((120, 600), 255, np.uint8)
    for i, text in enumerate("1207315"):  # thick strokes: the 0's hole has an edge, a mark of its own
        cv2.putText(image, text, (20 + 80 * i, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 10, cv2.LINE_AA)
    boxes = text_boxes(text_mask(image))
    glyphs = boxes[boxes[:, 3] > 40]
    assert len(glyphs) == 7, boxes  # every glyph, the 0 too
    framed = np.full((120, 500), 255, np.uint8)
    for i, text in enumerate("35720"):  # each in a cell outline; the 0's hole too is held, as in any table
        cv2.rectangle(framed, (10 + 95 * i, 10), (90 + 95 * i, 110), 0, 2)
        cv2.putText(framed, text, (35 + 95 * i, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3, cv2.LINE_AA)
    boxes = text_boxes(text_mask(framed))
    assert (boxes[:, 3] < 60).all(), boxes  # the numbers (the 0's hole inside its 0), not their outlines
    assert sorted({int(x + w / 2) // 95 for x, _, w, _ in boxes}) == [0, 1, 2, 3, 4]


def test_no_empty_column_is_filled_in_between_a_row_label_and_the_data():
    from recognizer.segment import fill_missing

    # "Round 1" labels end 12 px before the first column of numbers, two pitches from its centre.
    data = [(130 + 46 * i, 164 + 46 * i) for i in range(9)]
    assert fill_missing([(7, 118)] + data) == [(7, 118)] + data
    assert fill_missing([(7, 118)] + data[:3] + data[4:]) == [(7, 118)] + data  # one inside the data is
    # A strip's empty tile between a 14 and a 1: the 1 is narrow, but no label.
    strip = [(10, 30), (60, 80), (110, 130), (218, 222), (260, 280)]
    assert fill_missing(strip) == strip[:3] + [(160, 180)] + strip[3:]


def test_without_a_shape_numbers_inside_rings_are_found_apart_from_them_and_the_header_too():
    # SVG balls: numbers a pixel or two inside their rings, small grey letters and row numbers beside the
    # board. At 1x most rings join their numbers and are taken for the text; the header, far smaller,
    # is dropped as specks, and the first row of balls becomes the header, silently.
    image = np.full((30 + 40 * 4, 30 + 34 * 10), 250, np.uint8)
    for c in range(10):
        cv2.putText(image, "ABCDEFGHIJ"[c], (40 + 34 * c, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 60, 1, cv2.LINE_AA)
    for r in range(4):
        cv2.putText(image, str(r + 1), (6, 54 + 40 * r), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 60, 1, cv2.LINE_AA)
        for c in range(10):
            centre = (44 + 34 * c, 50 + 40 * r)
            cv2.circle(image, centre, 11, 20, 3, cv2.LINE_AA)
            text = str((10 * r + c + 10) % 37)
            (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.3, 1)
            cv2.putText(image, text, (centre[0] - w // 2, centre[1] + h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 20, 1,
                        cv2.LINE_AA)
    grid = find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (4, 10)
    assert grid.rows[0][0] < 50 - 11 < grid.rows[0][1] and grid.cols[0][0] < 44 < grid.cols[0][1]


def test_rings_closer_than_a_digit_gap_are_no_number_and_their_numbers_make_the_columns():
    # Outlined rings at 1x, 11 px text, a real screenshot's corner (4 rows of 8): the rings are 6 px apart,
    # closer than a digit gap at their height, so at 1x each row is one wide "number" and the table one
    # column. At 2x the numbers part from their rings, one per ring.
    image = screenshot("rings-close-11px.png")
    grid = find_grid(image)
    assert grid.shape == (4, 8)
    assert all(b - a < 40 for a, b in grid.cols)  # a ring each (pitch 34)


def test_large_chips_at_2x_are_located_at_half_size_when_a_quarter_and_the_full_size_fail():
    # Casino chips 130 px across (a 2x screenshot's corner, JPEG): with the shape given, rows of 130 px
    # are first located at a quarter, where the chips' rims merge with their numbers, then at full size,
    # where each white stripe of a rim is a mark as high as a digit. At half size the numbers stand apart.
    image = screenshot("casino-chips-large-2x.jpg")
    shape = TableShape(rows=4, cols=6)
    assert not fits(locate_at(image, 0.25, shape), shape) and not fits(locate_at(image, 1, shape), shape)
    grid = find_grid(image, shape)
    assert grid.shape == (4, 6)
    assert all(120 < b - a < 140 for a, b in grid.rows + grid.cols)  # a chip each (pitch 129)


def test_large_chips_whose_stripes_make_as_many_rows_at_full_size_are_located_at_half_size():
    # Casino chips 130 px across under word headers (2x, JPEG q50, three columns of a real screenshot): rows
    # of 130 px are first located at an eighth, too small for the text; at full size the rims' white
    # stripes make rows of their own, 23 px high, and by chance the shape's six. Halved once, the numbers
    # stand apart and give the chips' rows.
    image = screenshot("casino-chips-2x-stripe-rows-q50.jpg")
    shape = TableShape(rows=6, cols=3, skip_rows=1, skip_cols=1)
    assert fits(locate_at(image, 1, shape), shape)  # the stripes' rows
    # No shape: the stripes' rows made a grid of 11x6 (--seed 121: 120 cells silently wrong); at full
    # size they are rows far less high than the text, halved not, and the halved copy is taken.
    for grid in find_grid(image, shape), find_grid(image, TableShape(skip_rows=1, skip_cols=1)):
        assert grid.shape == (6, 3)
        assert all(100 < b - a < 140 for a, b in grid.rows[1:] + grid.cols)  # a chip each (pitch 134)
        assert grid.rows[0][0] < 150 < grid.rows[0][1]  # the first row's chips (after the header's end)


def test_a_header_found_on_a_shrunk_copy_reaches_as_far_as_its_words_do_at_full_size():
    # Bootstrap at 1.5x, 24 px text, row labels "Round 1" wrapped onto two lines (a real screenshot's
    # corner): rows of 115 px are located at a quarter, where the bold word's letters run into a blob
    # no glyph is as wide as; only the "1" under it was left, the header column ended there, and the
    # first column's cells held the word's "d" (flagged, 10 of 200). The header's end is taken from
    # its glyphs at full size.
    image = screenshot("bootstrap-wrapped-round-labels-1.5x.png")
    shape = TableShape(rows=3, cols=4, skip_rows=1, skip_cols=1)
    assert locate_at(image, 0.25, shape).col_spans[0][1] < 60  # the "1" alone
    grid = find_grid(image, shape)
    assert grid.shape == (3, 4)
    assert grid.cols[0][0] > 120  # after "Round", which ends at x = 120


def test_large_neon_text_that_is_no_grid_at_full_size_is_located_halved_without_a_shape():
    # Neon board, 23 px at 2x, JPEG q85, word headers (six columns of a real screenshot): at full size
    # the glow blurs the numbers' edges, so many are missed that the columns left never share a row,
    # which without a shape is refused as a history of ambiguous columns. On a halved copy the edges
    # are sharp: all 36 numbers, 6 rows and 6 columns after the header.
    image = screenshot("neon-2x-columns-apart-at-full-size.jpg")
    shape = TableShape(skip_rows=1, skip_cols=1)
    with pytest.raises(SegmentationError):
        locate(image, shape)
    assert find_grid(image, shape).shape == (6, 6)


def test_numbers_in_rings_under_a_header_too_small_to_tell_are_refused_without_a_shape():
    # SVG balls at 1.25x, 11 px text in thick rings, column numbers above and "Round N" beside (a real
    # screenshot's left part): at full size the rings are the text, the labels specks beside them, and
    # the first row and column of rings were taken for the header, every value a row and a column over
    # (9x8 of 10x8, none flagged). 2x parts numbers from rings but joins the labels' words to their
    # numbers; with no layout of the numbers themselves, it is refused and the shape asked for.
    image = screenshot("svg-balls-word-labels-1.25x.jpg")
    with pytest.raises(SegmentationError, match="pass the table's shape"):
        find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    grid = find_grid(image, TableShape(rows=10, cols=8, skip_rows=1, skip_cols=1))
    assert grid.rows[0][1] < 70  # the first row of rings, under the header


def test_the_striped_edges_of_a_row_of_chips_are_no_grid_lines_and_a_rule_is():
    from recognizer.segment import grid_lines

    image = np.full((80, 12 * 64), 60, np.uint8)
    yy, xx = np.mgrid[:64, :64] + 0.5
    d, a = np.hypot(xx - 32, yy - 32) / 30, np.degrees(np.arctan2(yy - 32, xx - 32)) % 45
    chip = np.where(d <= 1, np.where(a < 22.5, 40, 235), 60).astype(np.uint8)
    chip[d <= 0.7] = 40
    cv2.putText(chip, "7", (26, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 250, 2, cv2.LINE_AA)
    for c in range(12):
        image[:64, 64 * c : 64 * c + 64] = chip
    image[74:76] = 200  # a rule under the row
    _, horizontal = grid_lines(image, (0, 79), (0, image.shape[1]), text_h=15.0)
    assert set(horizontal.tolist()) <= set(range(72, 78)) and len(horizontal)  # the rule alone


def test_the_side_of_a_frame_beside_a_number_is_no_column():
    from recognizer.segment import slivers_dropped

    columns = [(15 + 32 * i, 34 + 32 * i) for i in range(15)]
    framed = columns[:9] + [(299, 301)] + columns[9:] + [(485, 486)]  # a hot number's frame, in enough rows
    assert slivers_dropped(framed, 14.0) == columns
    ones = [(15 + 32 * i, 34 + 32 * i) if i % 3 else (28 + 32 * i, 34 + 32 * i) for i in range(15)]
    assert slivers_dropped(ones, 14.0) == ones  # a column of 1s is narrow too, but a pitch from its neighbours
    # A strip of left-aligned numbers (Bootswatch flatly, Audiowide at 1.5x): a lone 1 first, 59 px
    # before an 8, nearer than the two-digit numbers lie to each other, but three text heights off.
    strip = [(13, 21), (80, 97), (165, 204), (293, 328), (420, 455), (540, 575), (640, 675), (740, 775), (860, 895)]
    assert slivers_dropped(strip, 19.0) == strip
    grid = find_grid(screenshot("bootswatch-flatly-strip-lone-1-first-audiowide-1.5x.png"))
    assert grid.cols[0][0] < 13 < grid.cols[0][1]  # the 1 keeps its place
    assert grid.shape == (1, 12)  # and the strip's borders rule off its two empty cells (`ruled_length`)


def test_frame_sides_inside_a_column_gap_are_no_columns_nor_stretch_a_row():
    # JPEG q50 at 10 px: of some framed tiles only the left side is left, 2 px wide, in enough rows
    # to make a column, 14 px from the number it frames (a column gap is 33). With the shape given,
    # two such columns pushed the first two data columns into the header; without it, one 16 px
    # high stretched the first row up to the header, and the row was taken for its second line.
    # Luminance as the reader takes it (libjpeg's own grey decoding leaves other frame pieces).
    image = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data" / "hot-cold-frame-sides-q50.jpg")),
                         cv2.COLOR_BGR2GRAY)
    spin_1, spin_2, round_1 = 95, 145, 43  # centres of the first two data columns and the first data row
    for shape in (TableShape(rows=4, cols=10, skip_rows=1, skip_cols=1), TableShape(skip_rows=1, skip_cols=1)):
        grid = find_grid(image, shape)
        assert grid.shape == (4, 10)
        (a0, b0), (a1, b1) = grid.cols[:2]
        assert a0 < spin_1 < b0 and a1 < spin_2 < b1
        assert grid.rows[0][0] < round_1 < grid.rows[0][1]
    from recognizer.segment import slivers_dropped

    columns = [(87 + 50 * i, 103 + 50 * i) for i in range(10)]
    assert slivers_dropped(columns[:2] + [(170, 172)] + columns[2:], 11.0) == columns  # 17 and 14 px from its neighbours
    assert slivers_dropped(columns + [(570, 572)], 11.0) == columns  # the last tile's right side, 18 px on
    grey = screenshot("hot-cold-frame-sides-q50.jpg")
    assert find_grid(grey, TableShape(rows=4, cols=10, skip_rows=1, skip_cols=1)).cols[0][0] < spin_1


def test_numbers_joined_to_touching_rings_are_looked_for_at_2x_without_a_shape():
    # SVG balls touching, 11 px text at 1.5x: at 1x most numbers are one mark with their ring, too
    # high for text and left out, so two half-empty columns (N, O) never shared a row and were
    # joined as one history column: 8x14, 120 cells silently wrong. The rings holding nothing say so.
    from recognizer.segment import HIDDEN_FUSED, marks, text_mask

    image = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data" / "svg-balls-touching-1x.png")),
                         cv2.COLOR_BGR2GRAY)  # the screenshot in 32 colours
    assert marks(text_mask(image))[1] == HIDDEN_FUSED
    grid = find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (8, 15)
    assert all(40 < b - a < 54 for a, b in grid.cols)  # a ball each (pitch 47)


def test_large_neon_text_without_a_shape_is_located_on_a_halved_copy_where_it_finds_far_more():
    # Neon numbers, 28 px at 1.25x, JPEG q50 (a fresh gallery draw): at full size the glow blurs the
    # edges and 54 marks are found, a column's worth of numbers missed (8x14, read without a flag
    # where its numbers were sure); halved, 117 marks and the whole board.
    from recognizer.segment import locate, locate_at

    image = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data" / "neon-large-q50.jpg")), cv2.COLOR_BGR2GRAY)
    assert locate_at(image, 0.5).mark_count >= 2 * locate(image).mark_count
    assert find_grid(image).shape == (8, 15)


def history_column(filled: int, rows: int = 15) -> np.ndarray:
    """A roulette history: one column, red numbers left, black ones right, `filled` rows of `rows`."""
    image = np.full((30 * rows, 110), 30, np.uint8)
    rng = np.random.default_rng(4)
    for r in range(filled):
        value = int(rng.integers(1, 37))
        x = 8 if r % 3 != 1 else 70
        cv2.putText(image, str(value), (x, 30 * r + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 2, cv2.LINE_AA)
    return image


def test_a_history_of_one_digit_reds_and_greens_beside_two_digit_blacks_is_one_column():
    # Red numbers left, zero centred, black right (a fresh gallery draw): the reds and the green
    # zeros all of one digit, so the blacks' span, two digits wide, was more than WORD_WIDTH times
    # the spans' median, taken for words and never joined: three columns, 9x3, silently.
    image = np.full((30 * 12, 104), 20, np.uint8)
    history = ["20", "0", "7", "8", "2", "26", "1", "5", "0", "31"]
    for r, value in enumerate(history):
        x = 70 if len(value) == 2 or value in "82" else 44 if value == "0" else 6
        cv2.putText(image, value, (x, 30 * r + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 2, cv2.LINE_AA)
    grid = find_grid(image)
    assert grid.shape == (len(history), 1) or grid.shape == (12, 1)


def test_a_sparse_line_is_a_row_only_where_it_holds_a_number_shaped_mark():
    # Roulette hot/cold tiles (a fresh gallery draw, JPEG q60): a framed tile's glowing frame left its
    # bottom edge as a mark 37 px wide and 11 high, a pixel under its row and centred in a column. Lined
    # up with that column, it made a row of its own, and the table read 11x20 (without a shape, every row
    # after it shifted); nor a frame's side, 2 px wide (it made a column). A history's lone newest
    # number, in a sparse row, still makes one.
    from recognizer.segment import group_spans, kept_spans

    rows = [(10 + 42 * r, 17) for r in range(4)]
    glyphs = [(20 + 40 * c, y, 12, h) for y, h in rows for c in range(8)]
    lined_up = np.array([(20 + 40 * c, 44 + 40 * c) for c in range(8)])
    for extra, kept in (((221, 154, 37, 11), False), ((221, 154, 2, 34), False), ((221, 180, 12, 17), True)):
        boxes = np.array(glyphs + [extra])
        line_of, sizes, spans = group_spans(boxes, 1, 0.5 * 17)
        found = kept_spans(boxes, line_of, sizes >= 0.5 * np.median(sizes), spans, 0, lined_up)
        assert len(found) == 4 + kept


def test_one_column_of_numbers_aligned_by_their_kind_is_one_column_and_a_history_not_full_keeps_its_rows():
    assert find_grid(history_column(15)).shape == (15, 1)
    assert find_grid(history_column(9)).shape == (15, 1)  # six empty rows below, in the picture's margin
    assert find_grid(history_column(4), TableShape(rows=15, cols=1)).shape == (15, 1)
    with pytest.raises(SegmentationError, match="never hold a number in the same row.*--rows/--cols"):
        find_grid(history_column(4))  # four rows apart may be chance: no call without the shape
    with pytest.raises(SegmentationError, match="never hold a number in the same row"):
        find_grid(history_column(3))  # nor three (it was read as a 2x2 table, or 3x2)
    assert find_grid(history_column(3), TableShape(rows=15, cols=1)).shape == (15, 1)


def test_rows_made_taller_by_wrapped_labels_are_data_not_header():
    # Rows 1-9 at one pitch, then rows whose labels wrap ("Round" over "10") at a taller one; before
    # them the header's two lines ("Spin" over "1"). Only those two are the header's.
    header = [(4, 20), (24, 40)]
    short = [(60 + 52 * i, 76 + 52 * i) for i in range(9)]
    tall = [(short[-1][0] + 66 + 80 * i, short[-1][1] + 66 + 80 * i) for i in range(11)]
    merged = header_merged(header + short + tall, 1, None, 16.0, parts_narrower=False)
    assert merged == [(4, 40)] + short + tall


def test_a_row_labels_number_a_word_space_from_the_first_column_does_not_join_the_header():
    # Browser-default cells ("Round 1" then "9", a space apart), a real screenshot's left part: at the
    # usual digit gap the label's "1" and the first column's numbers are one number, and without a
    # shape that column would silently join the header. Its numbers are in the first column's cells.
    image = screenshot("browser-default-round-labels.png")
    grid = find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (6, 3)
    first = grid.box(0, 0)
    assert first.x <= 165 and first.x + first.w >= 190  # the first column's numbers: x 158..196
    assert first.x > 147  # ... and nothing of the label ("Round 1" ends at x 145)


def test_a_wrapped_row_labels_last_letter_above_its_number_is_no_data_column():
    # Tachyons' striped table at 1.5x, a real screenshot's top-left part: row labels wrap ("Round" over
    # "1"), "Roun" is one mark too wide for a number and dropped, and its "d" makes a narrow column of
    # its own, 28 px from the labels' numbers (no word space): without a shape it became the first
    # data column, and the table was refused ("data column 1 looks like header labels"). Its marks sit
    # above the rows' middles (the data's numbers make the rows), so it is the label's.
    image = screenshot("tachyons-wrapped-round-labels.png")
    grid = find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (5, 5)
    first = grid.box(0, 0)
    assert first.x > 95 and first.x + first.w > 191  # "d" ends at x 94; the first column's numbers: 164..191


def test_the_row_labels_wide_cell_is_no_empty_data_column():
    # Chota's table (q85 JPEG at 1.25x, a real screenshot's corner): left-aligned cells a pitch wide,
    # "Round" too wide a mark for a number and dropped, its number two pitches from the first data
    # column. The gap was filled with an empty column, and the table refused without a shape ("data
    # column 1 is empty right after the header"); the header row labels every column but that one.
    image = screenshot("chota-left-aligned-round-labels.png")
    grid = find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (3, 4)
    first = grid.box(0, 0)
    assert 62 < first.x < 252 < first.x + first.w  # after the label's "1" (x 52..62), around the first data column's


def test_an_empty_first_column_with_a_label_above_it_stays():
    from recognizer.segment import unlabelled_dropped

    header, empty, data = (10, 30), (110, 130), [(210, 230), (310, 330), (410, 430)]
    spans = [header, empty] + data
    labels = np.array([[a, 5, b - a, 10] for a, b in [empty] + data])  # x, y, w, h in the header row
    assert unlabelled_dropped(spans, 1, {header, *data}, labels) == spans
    assert unlabelled_dropped(spans, 1, {header, *data}, labels[1:]) == [header] + data
    assert unlabelled_dropped(spans, 1, {header, *data}, labels[:0]) == spans  # no header row to tell


def test_wrapped_labels_lines_taken_for_rows_do_not_cost_the_last_row():
    # UIkit's striped table at 1.25x (a fresh gallery draw's left part, JPEG): headers "SPIN" over "1",
    # row labels "ROUND" over "1", and a last row holding one number. Located on a smaller copy, the
    # labels' lines ("D" above a row's middle, its number below) first count as rows; the header's
    # bound then took the first data column, the rows found again right of it lost the last row, and
    # the header's second line became data row 1: the shape fitted, every row one down, silently.
    image = screenshot("uikit-wrapped-caps-labels-last-row-one-number.jpg")
    grid = find_grid(image, TableShape(rows=8, cols=4, skip_rows=1, skip_cols=1))
    assert grid.rows[0][0] > 100  # below the header's "1" line (y 62..94)
    assert grid.rows[-1][0] < 1068 < grid.rows[-1][1]  # the last row's number: y 1068..1091


def test_one_column_alone_reaches_across_the_picture_after_its_header():
    # A history column: its numbers sit left or right by their kind, and one the search for text
    # missed (a faint red number) must still be inside its cell, not beside it.
    assert find_grid(history_column(15)).cols == ((0, 110),)
    labelled = np.full((30 * 15, 150), 30, np.uint8)
    labelled[:, 40:] = history_column(15)
    for r in range(15):
        cv2.putText(labelled, str(r + 1), (4, 30 * r + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 150, 1, cv2.LINE_AA)
    labels_end = np.flatnonzero((labelled[:, :40] > 90).any(axis=0)).max()
    (start, end), = find_grid(labelled, TableShape(rows=15, cols=1, skip_cols=1)).cols
    assert labels_end < start <= labels_end + 3 and end == 150  # right after the labels


def test_a_history_column_keeps_a_row_whose_number_is_fainter_than_the_others(monkeypatch):
    # The newest row highlighted, its number red: in luminance a third of the white numbers' edge,
    # under the threshold they set. Missed, its row is lost and, no shape given, the rows shift.
    image = history_column(14)  # and the last row empty: the margins tell no row is missing
    image[:30] = 60
    cv2.putText(image[:30], "36", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 120, 2, cv2.LINE_AA)
    grid = find_grid(image)
    assert grid.shape == (15, 1) and grid.rows[0][0] <= 8 < 22 <= grid.rows[0][1]
    monkeypatch.setattr("recognizer.segment.FAINT_EDGE", 1.0)  # no looking for faint marks
    assert find_grid(image).shape == (13, 1)  # the first row lost, and the empty last one with it


def test_a_halved_copy_whose_rows_are_pieces_of_rules_is_not_taken():
    # A real screenshot (browser-default `border=1` cells, 14 px text at 1.25x, JPEG quality 50): on
    # the copy halved for speed, the double rules between the first rows made a row of their own, a
    # few pixels high, and the first data row merged into the header to make the count; every cell
    # of that row would have been read from the header's. Such a copy leaves doubt: full size decides.
    from recognizer.imageio import read_image

    image = cv2.cvtColor(read_image(Path(__file__).parent / "data" / "browser-border-q50.jpg", 10**7),
                         cv2.COLOR_BGR2GRAY)
    grid = find_grid(image, TableShape(rows=10, cols=20, skip_rows=1, skip_cols=1))
    (top, bottom), = grid.rows[:1]
    assert top <= 43 and bottom >= 57  # "Round 1"'s row: its text lies at y 43..57


def test_a_history_of_three_numbers_after_row_labels_is_one_column_when_the_shape_says_so():
    # Three numbers so far: red left (a few pixels after its row label), black right. Too few rows
    # to call without a shape; with it, the left one is in the column, not in the header.
    image = np.full((300, 160), 30, np.uint8)
    for r in range(10):
        cv2.putText(image, str(r + 1), (4, 30 * r + 21), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 140, 1, cv2.LINE_AA)
    cv2.putText(image, "18", (40, 51), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 2, cv2.LINE_AA)
    for r, text in ((0, "35"), (2, "8")):
        cv2.putText(image, text, (120, 30 * r + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 2, cv2.LINE_AA)
    grid = find_grid(image, TableShape(rows=10, cols=1, skip_cols=1))
    (start, end), = grid.cols
    assert start < 40 and end == 160


def test_a_faint_number_that_jpeg_left_in_specks_still_keeps_its_row():
    # A real screenshot (a history column at 1.25x, JPEG quality 50): the newest number, red on its
    # highlighted row, passes the threshold only in specks. Without a shape, its row was lost and
    # the rows after it read one row up; the last two rows are empty.
    from recognizer.imageio import read_image

    image = cv2.cvtColor(read_image(Path(__file__).parent / "data" / "history-column-red-newest-q50.jpg", 10**7),
                         cv2.COLOR_BGR2GRAY)
    grid = find_grid(image)
    assert grid.shape == (20, 1) and grid.rows[0][0] <= 14 and grid.rows[0][1] >= 40  # its 18: y 14..40


def test_a_tight_tables_first_columns_run_into_its_labels_are_parted_without_a_shape():
    """Browser-default `cellpadding=2`, letters A..L over the columns, 1..6 beside the rows: at the usual
    digit gap the labels and the first seven columns are one span, taken for the header (6x5, every
    value seven columns over); at the table's own tighter gap they part at the data's pitch."""
    grid = find_grid(screenshot("browser-default-tight-letters-6x12.png"), TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (6, 12)
    assert grid.cols[0][0] < 20 < grid.cols[0][1]  # the first data column, "31 28 32 27 22 17"


def test_a_caption_lost_on_a_shrunk_copy_leaves_no_row_filled_in_after_the_data():
    """A caption above the header, counted among the header rows (shape 6x12, two header rows): the
    halved copy misses the caption and, one row short, fills one in after the last (every row one
    over, the last empty, nothing flagged). A layout with made-up ends is left to the full size."""
    grid = find_grid(screenshot("caption-above-s-labels-1.25x-q70.jpg"), TableShape(rows=6, cols=12, skip_rows=2,
                                                                                    skip_cols=1))
    first, last = grid.rows[0], grid.rows[-1]
    assert first[0] < 101 < first[1] and last[0] < 306 < last[1]  # rows "R1" and "R6"


def test_a_bold_strips_holes_do_not_make_its_numbers_outlines():
    """Four bold numbers on dark tiles, "12 6 29 8", then six empty places drawn as nothing (1.5x):
    the 6, 9 and 8 hold their holes' edges, and with those holes half the marks that hold nothing,
    the glyphs were taken for outlines, higher than "the text", and dropped: 1x2, "12 29", without a
    shape (and, with it, refused at full size). The holes are no measure of the text."""
    image = screenshot("last-numbers-bold-four-of-ten-1.5x.png")
    for grid in find_grid(image), find_grid(image, TableShape(rows=1, cols=10)):
        assert grid.shape == (1, 10)
        assert all(a < x < b for (a, b), x in zip(grid.cols, (44, 117, 187, 262)))  # the numbers' middles


def test_a_label_number_run_into_the_first_data_column_does_not_make_it_a_word():
    """Browser-default, 12 px, "Round 1".."Round 20" a few pixels before a left-aligned first column
    (a real screenshot, no shape given): in two rows the label's 14 and 17 run into the data's number
    at the usual digit gap, three digits wide. The first data column's span reached back into the
    labels, and, far wider than the others, was taken for a word of the header: 20x14, every value
    a column over. Its span is that of the numbers two digits can be."""
    grid = find_grid(screenshot("browser-default-round-labels-run-into-data.png"), TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (20, 15)
    assert grid.cols[0][0] <= 59 and grid.cols[0][1] >= 73  # the first data column, "22 12 32 17 ..."


def test_without_a_shape_a_header_row_that_swallowed_data_rows_is_looked_at_2x():
    """A hot/cold board at 10 px, 1x (a real screenshot): the framed tiles' sides join the header's
    letters to the first two data rows, one "header" row five text heights high (18x15 without a
    shape, 300 cells shifted). At 2x the lines part."""
    grid = find_grid(screenshot("hot-cold-10px-header-row-merged.png"), TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (20, 15)


def test_without_a_shape_a_last_row_lost_with_its_rings_is_found_at_2x():
    """SVG balls at 1.5x, 12 px (a real screenshot): at full size the numbers went with their rings
    and the last row was lost whole (two columns joined, too): a grid of 7x12 that looked well formed.
    At 2x every row and column is there, the 1x ones and one more after them."""
    grid = find_grid(screenshot("svg-balls-1.5x-last-row-fused.png"), TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (8, 15)


def test_a_tight_tables_numbers_run_together_everywhere_keep_their_columns_spans():
    """Browser-default at 1.5x, numbers 1..20 over the columns, no row labels (a real screenshot, no
    shape given): neighbours run together in many rows. Spans are narrowed to their two-digit
    numbers only after header columns, where a few run into labels: here they stay as they were."""
    grid = find_grid(screenshot("browser-default-tight-numbers-header-1.5x.png"), TableShape(skip_rows=1))
    assert grid.shape == (10, 20)


def test_a_scroll_bars_arrows_under_a_table_make_no_row():
    """mini.css dark at 1.5x (a real screenshot, no shape given): the table is wider than its box, and
    under it Chromium draws a scroll bar, its two arrow buttons glyph-shaped marks in line with the
    thumb. The right one, under the last column, made a fifth data row (one flagged cell, the rest
    empty). Marks at the ends of a bar and in line with it are the bar's."""
    grid = find_grid(screenshot("mini-dark-scroll-bar-1.5x.png"), TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (4, 10)


def test_numbers_cut_off_by_the_pictures_edge_are_told_from_numbers_that_touch_it():
    """Bootswatch's Lux theme at 1.25x, the table wider than the window (a real screenshot's right
    part): the element screenshot ends at the viewport, and of the last column only the first digits
    show, "30" as a whole 3 touching the edge. Those cells may go on beyond the picture. Cut a pixel
    after a whole column instead, its two-digit numbers touch the edge whole: nothing is cut."""
    from recognizer.segment import cut_by_the_edge

    image = screenshot("bootswatch-lux-cut-at-the-right-edge-1.25x.jpg")  # grey, as the reader segments
    grid = find_grid(image, TableShape(skip_rows=1))
    assert grid.shape == (10, 5)
    cut = cut_by_the_edge(image, grid).reshape(10, 5)
    assert cut[:, 4].sum() >= 8 and not cut[:, :4].any()
    whole = image[:, :352]  # the fourth column's widest numbers end at x = 351
    grid = find_grid(whole, TableShape(skip_rows=1))
    assert grid.shape == (10, 4) and grid.cols[-1][1] >= whole.shape[1] - 1
    assert not cut_by_the_edge(whole, grid).any()


def test_a_row_label_run_into_an_empty_first_cell_is_told_from_the_cells_own_numbers():
    """chota's striped table, 10x20 under word headers, "Round N" row labels at 23 px wrapped onto two
    lines ("Round" over "10"). The data's pitch puts the first column's left side inside the word, so
    the last row's empty first cell held "nd", read as a sure 6. That cell holds only ink run in
    from the left; the other first cells hold a number apart from the word's tail, and are read."""
    from recognizer.segment import run_into_the_first_column

    image = screenshot("chota-round-labels-wrapped-last-first-cell-empty.png")
    grid = find_grid(image, TableShape(rows=10, cols=20, skip_rows=1, skip_cols=1))
    run_in = run_into_the_first_column(image, grid).reshape(10, 20)
    assert run_in[9, 0] and run_in.sum() == 1


def test_labels_set_tight_against_the_tables_own_border_are_a_column_not_part_of_the_border():
    """mini.css (dark), Open Sans 18 px, JPEG q70 (a new user's picture, its first five data columns):
    the letters A..H beside the rows touch the table's left border, the picture's first pixel
    column. Joined to it, they went with it as structure, and the header count took the first data
    column: every value one column over, silently."""
    image = screenshot("mini-dark-letters-beside-the-rows-at-the-border-q70.png")
    grid = find_grid(image, TableShape(skip_rows=1, skip_cols=1))
    assert grid.shape == (8, 5)
    assert grid.cols[0][0] > 40  # the data starts right of the letters (at x = 59)


@pytest.mark.parametrize("name", ["bootswatch-darkly-strip-two-trailing-empties-2x-q65",
                                  "bootswatch-cosmo-strip-two-trailing-empties-1x-q73"])
def test_a_strip_as_wide_as_its_page_keeps_its_narrow_trailing_empty_cells(name):
    """Bootswatch's darkly theme, a 1x12 "last numbers" strip as wide as the page at 2x (JPEG q65),
    its last two cells empty: an HTML table gives empty columns only their padding, and the numbers
    sit left in their wide cells, so neither the data's pitch nor the margins' difference placed
    them, and the given shape was refused ("found 1x10 cells"). Cosmo's (Ubuntu from npm's
    @fontsource, 1x, q73) centres them: its first number is 11 px further in than half a pitch,
    too little for an empty cell, and was taken for room at both ends."""
    image = screenshot(f"{name}.jpg")
    grid = find_grid(image, TableShape(rows=1, cols=12))
    import json

    truth = json.loads((Path(__file__).parent / "data" / f"{name}.json").read_text())
    values = np.array([[-1 if v is None else v for v in line] for line in truth])
    assert grid.shape == (1, 12) and (values[0, -2:] < 0).all()
    check_cells(image, grid, values)
    assert grid.cols[-2][0] > grid.cols[-3][1] - 1 and grid.cols[-1][1] <= image.shape[1]


def test_a_header_of_dark_words_on_a_bright_band_is_found_and_the_data_keeps_its_rows():
    """mvp.css's dark table (Oswald from npm's @fontsource, JPEG q84): dark "Spin N" on a bright blue
    header band, white numbers on dark rows. The header's edges are fainter than the data's and were
    not found, so the first row of numbers was taken for the header: with the header count only,
    every row shifted up one, silently; with the shape given it was refused, and squeezing a row into
    the gap after it read 15 cells as surely empty. Faint marks over most of the columns, a row above
    the rest, are the header."""
    image = screenshot("mvp-dark-bright-header-oswald-q84.jpg")
    for shape in (TableShape(skip_rows=1), TableShape(rows=8, cols=15, skip_rows=1)):
        grid = find_grid(image, shape)
        top, bottom = grid.rows[0]
        assert grid.shape == (8, 15) and top < 60 < bottom  # the row of 18, 36, 35, ... (y 40-80)


def test_a_ruled_strips_empty_cells_are_found_between_its_faint_rules():
    """Bootswatch litera's bordered strip (Inter from npm's @fontsource, 1.5x, JPEG q84): numbers
    right-aligned, the last two cells empty and only their padding wide, the borders 26 grey levels
    off white (under the edge mask's threshold). Neither the pitch, nor the margins, nor the narrow
    empties' rule placed them, and the given 1x12 was refused. The rules down the row part it into
    twelve cells. And the crops of the narrow empty cells, as wide as the widest cell, no longer
    reach the right-aligned 7 beside them (it read as a sure 7 in both)."""
    image = screenshot("bootswatch-litera-bordered-strip-right-aligned-1.5x-q84.jpg")
    grid = find_grid(image, TableShape(rows=1, cols=12))
    values = np.array([[15, 34, 9, 11, 0, 3, 32, 27, 11, 7, -1, -1]])
    assert grid.shape == (1, 12) and grid.cols[-2][0] > 973  # the 7 ends at x 973
    check_cells(image, grid, values)
    from recognizer.segment import ruled_empties

    spans = [(67, 93), (180, 213), (282, 297), (371, 392), (462, 478), (547, 563), (648, 680), (765, 796),
             (869, 890), (958, 973)]
    assert ruled_empties(image, spans, 0, 12, (21, 43), 22.0)[10:] == [(997, 1023), (1049, 1075)]
    assert ruled_empties(image, spans, 0, 13, (21, 43), 22.0) == spans  # twelve cells are no thirteen
    assert ruled_empties(np.full_like(image, 255), spans, 0, 12, (21, 43), 22.0) == spans  # no rules


def test_a_ruled_strips_trailing_empty_cells_are_found_without_a_shape_and_a_pages_margin_is_no_cell():
    """The same litera strip, nothing given: a rule parts every two numbers and none lies before the
    first, so the picture begins at the table's border and the two narrow cells ruled off after the
    last number are its empty cells (read 1x10 before: the length short, silently). With a page's
    margin around it, what lies beyond the table's last border could be margin: nothing is added."""
    from recognizer.segment import ruled_length

    image = screenshot("bootswatch-litera-bordered-strip-right-aligned-1.5x-q84.jpg")
    values = np.array([[15, 34, 9, 11, 0, 3, 32, 27, 11, 7, -1, -1]])
    grid = find_grid(image, TableShape())
    assert grid.shape == (1, 12)
    check_cells(image, grid, values)
    framed = cv2.copyMakeBorder(image, 20, 20, 40, 40, cv2.BORDER_CONSTANT, value=255)
    assert find_grid(framed, TableShape()).shape == (1, 10)
    spans = [(67, 93), (180, 213), (282, 297), (371, 392), (462, 478), (547, 563), (648, 680), (765, 796),
             (869, 890), (958, 973)]
    assert ruled_length(image, spans, (21, 43), 22.0) == 12
    assert ruled_length(np.full_like(image, 255), spans, (21, 43), 22.0) is None  # no rules
