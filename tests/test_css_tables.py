"""Tables styled the ways CSS frameworks the gallery lacks style them, rendered in real Chromium, each a
failure a new user's page found: dashed or dotted cell borders (`border: 1px dashed` lost a column without
a word, 2px red dashes between columns made every cell a '1'), row labels on a coloured block (picnic.css:
the first data column skipped as the header), and a one-row strip laid out by its content whose empty cell
is only as wide as its padding (w3.css, Bootstrap 3: the numbers after it shifted left)."""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.by import By

from recognizer.imageio import decode_png
from recognizer.segment import find_grid, line_pixels
from recognizer.settings import DEFAULT_MODEL, TableShape

pytestmark = pytest.mark.e2e

BORDERS = {
    "dashed grid": "td, th { border: 1px dashed #888; padding: 4px 8px } table { border-collapse: collapse }",
    "dashed columns": "td, th { border-right: 2px dashed #c33; padding: 4px 8px } table { border-collapse: collapse }",
    "dotted grid": "td, th { border: 2px dotted #555; padding: 5px 9px } table { border-collapse: collapse }",
}


def shot(driver, css: str, values: np.ndarray, font: str, *, header: bool = True, labels: bool = False,
         attrs: str = "") -> np.ndarray:
    """The table of `values` (-1: empty) under a header of numbers, with "Round N" labels, in `css`."""
    head = ("<tr>" + "<th></th>" * labels + "".join(f"<th>{i + 1}</th>" for i in range(values.shape[1])) + "</tr>"
            if header else "")
    body = "".join("<tr>" + f"<th>Round {r + 1}</th>" * labels + "".join(f"<td>{'' if v < 0 else v}</td>" for v in row)
                   + "</tr>" for r, row in enumerate(values))
    html = f"<html><head><style>body {{ font: {font}; background: #fff }} {css}</style></head><body>" \
           f"<table id='t' {attrs}>{head}{body}</table></body></html>"
    driver.get("data:text/html;base64," + base64.b64encode(html.encode()).decode())
    return decode_png(driver.find_element(By.ID, "t").screenshot_as_png)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("font", ["13px Verdana, sans-serif", "20px Arial, sans-serif"])
def test_a_table_with_dashed_or_dotted_borders_keeps_every_column(module_chromium, border, font):
    import cv2

    values = np.random.default_rng(len(border) + len(font)).integers(0, 37, (6, 12))
    image = shot(module_chromium, BORDERS[border], values, font)
    grid = find_grid(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), TableShape(skip_rows=1))  # header counts only
    assert grid.shape == values.shape
    if DEFAULT_MODEL.exists():
        from recognizer.predictor import default_reader

        table = default_reader().read(image, TableShape(skip_rows=1))
        assert table.to_grid() == values.tolist() and not table.flagged


def test_line_pixels_are_dashes_along_the_table_not_digits_stacked_in_a_column():
    mask = np.zeros((200, 120), np.uint8)
    for y in range(4, 196, 10):
        mask[y:y + 8, 10:13] = 1  # a dashed line down the picture, as the edges' mask has 2px CSS dashes
    for y in range(4, 196, 24):
        mask[y:y + 14, 60:63] = 1  # the '1's of a column of numbers, one per row, 10 px apart
    mask[92:94, 20:110] = 1  # a solid line across 90 of the picture's 120 px, between two rows
    on = line_pixels(mask)
    assert on[:, 10:13].sum() == mask[:, 10:13].sum()  # every dash
    assert not on[:92, 60:63].any() and not on[94:, 60:63].any()  # where the line crosses them only
    assert on[92:94, 20:110].all()


VENDOR = Path(__file__).resolve().parents[1] / "bench/gallery/vendor"


def test_row_labels_on_a_coloured_block_leave_the_first_data_column_in_place(module_chromium):
    """picnic.css: header row and row labels white on blue. The outline of the white block of data cells was
    taken for a scroll bar beside the labels, their numbers for its arrows: no labels column was seen, and
    the header count skipped the first data column instead."""
    import cv2

    values = np.random.default_rng(12).integers(0, 37, (6, 12))
    image = shot(module_chromium, (VENDOR / "picnic-7.1.0/picnic.min.css").read_text(), values,
                 "16px Arial, sans-serif", labels=True)
    luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert find_grid(luma, TableShape(skip_rows=1, skip_cols=1)).shape == values.shape
    if DEFAULT_MODEL.exists():
        from recognizer.predictor import default_reader

        assert default_reader().read(image, TableShape(skip_rows=1, skip_cols=1)).to_grid() == values.tolist()


def test_a_strip_whose_empty_cell_is_narrower_is_refused_without_its_length_not_shifted(module_chromium):
    """Bootstrap 3's condensed table, one row: laid out by its content, an empty cell is as wide as its
    padding, and the numbers after it were read one place to the left."""
    import cv2

    from recognizer.errors import SegmentationError

    css = (VENDOR / "bootstrap-3.4.1/bootstrap.min.css").read_text()
    values = np.array([[36, 19, -1, 16, 23, 1, 0, 23, 21, 31]])
    image = shot(module_chromium, css, values, "14px Arial, sans-serif", header=False, attrs='class="table-condensed"')
    with pytest.raises(SegmentationError, match="unevenly spaced after its number 2: an empty cell there"):
        find_grid(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), TableShape())
    full = np.array([[36, 19, 12, 16, 23, 1, 0, 23, 21, 31]])  # no empty cell: read as it is
    image = shot(module_chromium, css, full, "14px Arial, sans-serif", header=False, attrs='class="table-condensed"')
    assert find_grid(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), TableShape()).shape == (1, 10)


def test_a_strip_laid_out_by_its_content_keeps_its_empty_cells_in_place_with_its_length_given(module_chromium):
    """picnic.css, one row shrunk to its content: an empty cell inside and two at the end are each as wide
    as the space between two numbers; with the strip's length given they are put back where they are."""
    import cv2

    from recognizer.errors import SegmentationError

    values = np.array([[2, 33, 30, 36, 19, 21, 1, -1, 17, 10, -1, -1]])
    image = shot(module_chromium, (VENDOR / "picnic-7.1.0/picnic.min.css").read_text(), values,
                 "16px Arial, sans-serif", header=False)
    luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grid = find_grid(luma, TableShape(rows=1, cols=12))
    assert grid.shape == (1, 12)
    if DEFAULT_MODEL.exists():
        from recognizer.predictor import default_reader

        expected = [[None if v < 0 else int(v) for v in values[0]]]
        assert default_reader().read(image, TableShape(rows=1, cols=12)).to_grid() == expected
    with pytest.raises(SegmentationError, match="unevenly spaced after its number 7"):
        find_grid(luma, TableShape())
