"""Tables whose cell borders CSS draws dashed or dotted, rendered in real Chromium: the dashes are no
digits, and the dashed grid is no text (found by a new user's page: `border: 1px dashed` lost a column
without a word, 2px red dashes between columns made every cell a '1')."""
from __future__ import annotations

import base64

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


def shot(driver, css: str, values: np.ndarray, font: str) -> np.ndarray:
    head = "<tr>" + "".join(f"<th>{i + 1}</th>" for i in range(values.shape[1])) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in values)
    html = f"<html><head><style>body {{ font: {font}; background: #fff }} {css}</style></head><body>" \
           f"<table id='t'>{head}{body}</table></body></html>"
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
