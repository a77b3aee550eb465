from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.normalize import INPUT_SIZE, normalize_batch, normalize_cell
from recognizer.segment import crop_cells, find_grid
from recognizer.settings import TableShape
from tests.tables import Look, font_path, random_values, render


def cell_of(value: int, look: Look) -> np.ndarray:
    image = render(np.array([[value, 1], [2, 3]]), look)
    grid = find_grid(image, TableShape(rows=2, cols=2))
    return crop_cells(image, grid)[0]


@pytest.mark.parametrize("value", [0, 7, 36])
def test_polarity_and_colour_do_not_matter(value):
    light = normalize_cell(cell_of(value, Look("light", cell_w=40, cell_h=30, size=18)))
    for style in ("dark", "roulette", "zebra"):
        other = normalize_cell(cell_of(value, Look(style, cell_w=40, cell_h=30, size=18)))
        assert other.shape == (INPUT_SIZE, INPUT_SIZE) and other.dtype == np.float32
        # Same glyph, same place: the inputs differ only by anti-aliasing.
        assert np.abs(light - other).mean() < 0.06, style


def test_ink_is_bright_on_black_and_fills_the_box():
    x = normalize_cell(cell_of(8, Look("light", size=24, cell_w=50, cell_h=40)))
    assert x.max() == pytest.approx(1.0) and x.min() == 0.0
    rows = np.nonzero(x.max(axis=1) > 0.3)[0]
    assert rows.max() - rows.min() >= 18  # scaled up to the ink box height
    assert x[0].sum() == 0 and x[-1].sum() == 0  # margin kept


def test_empty_cell_and_flat_colour_are_empty():
    assert normalize_cell(np.full((30, 40, 3), 255, np.uint8)) is None
    assert normalize_cell(np.full((30, 40, 3), (40, 30, 200), np.uint8)) is None
    noisy = np.random.default_rng(0).integers(240, 256, (30, 40, 3)).astype(np.uint8)
    assert normalize_cell(noisy) is None


def test_grid_line_fragments_at_the_edges_are_ignored():
    clean = cell_of(5, Look("plain", cell_w=40, cell_h=30, size=18))
    framed = clean.copy()
    framed[0, :] = framed[-1, :] = 90  # lines of the neighbouring cells
    framed[:, :2] = 90
    assert np.abs(normalize_cell(clean) - normalize_cell(framed)).max() < 1e-6
    lines_only = np.full_like(clean, 255)
    lines_only[0, :] = lines_only[:, -1] = 0
    assert normalize_cell(lines_only) is None


def test_batch_reports_empties_in_order():
    full, empty = cell_of(12, Look("light")), np.full((24, 34, 3), 255, np.uint8)
    inputs, is_empty = normalize_batch([full, empty, full])
    assert inputs.shape == (2, INPUT_SIZE, INPUT_SIZE, 1) and is_empty == [False, True, False]


@pytest.mark.parametrize("inset", [0, 1, 2])
def test_frame_corners_near_the_edge_are_ignored(inset):
    """L-shaped corners of a cell frame (a broken grid line), touching the crop or a pixel or
    two in from it, must not join the number: they would shrink it in the model input."""
    clean = cell_of(28, Look("plain", cell_w=44, cell_h=34, size=18))
    h, w = clean.shape[:2]
    framed = clean.copy()
    i = inset
    framed[i : i + 2, i : w // 3] = 120  # top-left corner: a horizontal and a vertical arm
    framed[i : h // 2, i : i + 2] = 120
    framed[h - i - 2 : h - i, w - w // 3 : w - i] = 120  # bottom-right corner
    framed[h // 2 : h - i, w - i - 2 : w - i] = 120
    assert np.abs(normalize_cell(clean) - normalize_cell(framed)).max() < 0.05


def test_input_does_not_depend_on_screenshot_scale():
    """A 3x screenshot of a cell (shrunk by block averaging first) gives nearly the 1x input."""
    small = cell_of(17, Look("light", cell_w=40, cell_h=30, size=18))
    big = cv2.resize(small, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    assert np.abs(normalize_cell(small) - normalize_cell(big)).mean() < 0.04


def test_a_whole_table_at_once_matches_one_cell_at_a_time():
    """Inference normalises a table's crops as one stack; the training tooling one crop at a time.
    Both must give the model the same input (up to a grey level or two of remap rounding)."""
    values = np.arange(8 * 15).reshape(8, 15) % 38 - 1  # 0..36 and some empty cells
    for look in (Look("roulette", cell_w=40, cell_h=30, size=18), Look("zebra", size=13, jpeg=70)):
        grey = cv2.cvtColor(render(values, look), cv2.COLOR_BGR2GRAY)
        crops = crop_cells(grey, find_grid(grey, TableShape(rows=8, cols=15)))
        inputs, is_empty = normalize_batch(crops)
        singles = [normalize_cell(c) for c in crops]
        assert is_empty == [s is None for s in singles] == (values.ravel() < 0).tolist()
        assert np.abs(inputs[..., 0] - np.stack([s for s in singles if s is not None])).max() <= 3 / 255


def chip(shine: bool = False, arc: bool = False) -> np.ndarray:
    """A 9 in white on a red chip's grey level; with a gradient's shine up and left of it, touching it, and
    with a strong arc of the chip's rim above the text line."""
    ink = np.zeros((48, 48), np.uint8)
    cv2.putText(ink, "9", (17, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 255, 2, cv2.LINE_AA)
    cell = 60.0 + ink * (195 / 255)
    if shine:  # weak (a third of the number's contrast), wide, and joined to the 9 by the threshold
        yy, xx = np.mgrid[:48, :48]
        cell += 70 * np.exp(-((yy - 15) ** 2 + (xx - 15) ** 2) / (2 * 5.0**2))
    if arc:
        rim = np.zeros((48, 48), np.uint8)
        cv2.ellipse(rim, (24, 24), (21, 21), 0, 200, 260, 255, 1, cv2.LINE_AA)
        cell = np.maximum(cell, rim * (200 / 255))
    return np.clip(cell, 0, 255).astype(np.uint8)


def test_a_chips_shine_beside_its_number_is_not_ink():
    plain, shiny = normalize_cell(chip()), normalize_cell(chip(shine=True))
    assert np.abs(plain - shiny).mean() < 0.03  # the same 9, the same place and size


def test_a_highlight_within_a_pixel_of_the_number_is_not_ink():
    """Most of a highlight that overlaps a digit's top lies within a pixel of its strokes, where a
    stroke's rim would; what shows it is a gradient is that it barely changes from pixel to pixel."""
    yy, xx = np.mgrid[:48, :48]
    highlight = 80 * np.exp(-((yy - 18) ** 2 + (xx - 16) ** 2) / (2 * 4.0**2))
    plain = normalize_cell(chip())
    shiny = normalize_cell(np.clip(chip() + highlight, 0, 255).astype(np.uint8))
    footprint = cv2.dilate((plain > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert shiny[~footprint].sum() < 0.01 * shiny.sum()  # the same 9: nothing beside its strokes


def test_a_rims_arc_above_the_text_line_is_not_ink_when_the_text_height_is_known():
    text_height = 15.0  # the 9's ink, as segmentation measures it in a table
    (plain, arc), _ = normalize_batch(np.stack([chip(), chip(arc=True)]), text_height)
    assert np.abs(plain - arc).mean() < 0.03


@pytest.mark.parametrize("text", ["4", "24", "34"])
def test_a_hairline_fonts_weak_strokes_all_stay(text, monkeypatch):
    """Weak ink far from a stroke's core is dropped only in patches (a chip's shine): the strokes of a
    hairline weight, weak all along but thin, are all kept."""
    from PIL import Image, ImageDraw, ImageFont

    import recognizer.normalize as normalize

    font = ImageFont.truetype("/usr/share/fonts/truetype/lato/Lato-Hairline.ttf", 18)
    picture = Image.new("L", (40, 28), 255)
    ImageDraw.Draw(picture).text((8, 3), text, fill=40, font=font)
    cell = np.asarray(picture)
    kept = normalize_cell(cell)
    monkeypatch.setattr(normalize, "near_cores", lambda ink, mask: mask)
    whole = normalize_cell(cell)
    assert np.abs(kept - whole).mean() < 0.02


def test_small_text_in_tall_cells_keeps_its_detail():
    """A data grid's rows are 52 px high at 11 px text: halving the crops, as their height alone would
    call for, leaves a 1 six pixels high, where its flag and a 7's bar look alike."""
    from recognizer.normalize import MIN_WORK_TEXT, shrink

    crops = np.zeros((3, 86, 86), np.uint8)
    assert shrink(crops).shape[1:] == (43, 43)  # text height unknown (training crops): by the crop
    assert shrink(crops, text_height=12.0).shape[1:] == (86, 86)
    assert shrink(crops, text_height=4 * MIN_WORK_TEXT).shape[1:] == (43, 43)  # large text: halved all the same
    assert shrink(np.zeros((1, 600, 600), np.uint8), text_height=12.0).shape[1] < 300  # the cost stays bounded


def test_a_number_on_a_ball_inside_a_thick_ring_is_read_on_the_balls_ground():
    """Most of the crop's centre is the ring, so the ring is taken for the background and the ball,
    with the number a hole in it, for one blob: the crop is read again on the ground of its text line."""
    from recognizer.normalize import normalize_batch

    def ball(ring: int) -> np.ndarray:
        cell = np.full((80, 80), 250, np.uint8)
        cv2.circle(cell, (40, 40), 36, 30, -1)  # the ring ...
        cv2.circle(cell, (40, 40), 36 - ring, 255, -1)  # ... around a white ball
        cv2.putText(cell, "29", (25, 48), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 30, 2, cv2.LINE_AA)
        return cell

    (thin, thick), empty = normalize_batch(np.stack([ball(3), ball(16)]), text_height=17.0)
    assert empty == [False, False]
    assert np.abs(thin - thick).mean() < 0.05  # the same 29 on a thin ring's ball and a thick one's


@pytest.mark.parametrize("text", ["28", "30"])
def test_a_number_with_holes_on_a_ball_inside_a_thick_ring_is_read_whole_not_as_its_holes(text):
    """On the ring taken for the background, what is left of a 28 or a 30 after the ball (the ink
    around it) is dropped are its holes: ink of a plausible height, which must not pass for the number."""
    def ball(ring: int) -> np.ndarray:
        cell = np.full((80, 80), 250, np.uint8)
        cv2.circle(cell, (40, 40), 36, 30, -1)
        cv2.circle(cell, (40, 40), 36 - ring, 255, -1)
        cv2.putText(cell, text, (22, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 30, 3, cv2.LINE_AA)
        return cell

    (thin, thick), empty = normalize_batch(np.stack([ball(3), ball(14)]), text_height=20.0)
    assert empty == [False, False]
    assert np.abs(thin - thick).mean() < 0.05


def test_an_empty_cells_dashed_outline_is_no_ink_when_the_text_height_is_known():
    cell = np.full((74, 74), 250, np.uint8)
    for a in range(0, 360, 24):  # a faint dashed circle of 4 px dashes, as a board draws its empty places
        cv2.ellipse(cell, (37, 37), (30, 30), 0, a, a + 8, 200, 1, cv2.LINE_AA)
    _, empty = normalize_batch(cell[None], text_height=16.0)
    assert empty == [True]
    cv2.putText(cell, "1", (32, 45), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 120, 1, cv2.LINE_AA)  # a number among them
    _, empty = normalize_batch(cell[None], text_height=16.0)
    assert empty == [False]


def test_the_stripes_of_a_chips_edge_outside_its_inner_rim_are_not_ink():
    """A real crop (the gallery's roulette-casino-chips look, rendered in Chromium: a 7 inside a thin
    light rim, light stripes on the chip's edge beyond it, some level with the 7). Whatever lies
    outside the ring that holds the number is not of it: the ink is one digit wide, not the chip's."""
    from recognizer.normalize import ink_components, ink_maps

    crop = cv2.imread(str(Path(__file__).parent / "data" / "casino-chip-7.png"), cv2.IMREAD_GRAYSCALE)
    _, ((y0, y1, x0, x1),), _ = ink_components(ink_maps(crop[None]), text_height=26.0)
    assert 0.7 * 26 < y1 - y0 < 1.2 * 26 and x1 - x0 < 26


def test_a_small_number_inside_a_large_rim_keeps_all_its_digits():
    cell = np.full((48, 48), 30, np.uint8)
    cv2.circle(cell, (24, 24), 18, 200, 2, cv2.LINE_AA)
    cv2.putText(cell, "12", (15, 29), cv2.FONT_HERSHEY_SIMPLEX, 0.35, 250, 1, cv2.LINE_AA)  # digits 1/4 of the rim
    (x,), _ = normalize_batch(cell[None], text_height=11.0)
    cols = np.flatnonzero(x.max(axis=0) > 0.3)
    assert cols[-1] - cols[0] > 14  # both digits, not the 1 alone


def test_a_pixel_fonts_digit_joined_to_its_neighbour_is_no_ring_around_the_rest():
    """A real crop (the gallery's win98 look: 98.css's bitmap font, 12 px): a 27 whose 2 joins the 7's
    bar while a faint pixel parts the bar from the 7's stem. The 2-and-bar holds the stem in its box,
    but not on all four sides: no ring, and the 2 stays (it was dropped, and the 27 read as a 1)."""
    from recognizer.normalize import ink_components, ink_maps

    crop = cv2.imread(str(Path(__file__).parent / "data" / "win98-27.png"), cv2.IMREAD_GRAYSCALE)
    _, ((_, _, x0, x1),), _ = ink_components(ink_maps(crop[None]), text_height=12.0)
    assert x1 - x0 >= 10  # both digits, not the 7's stem alone


def test_a_piece_far_beside_a_centred_number_is_told():
    """A real crop (the gallery's casino chips at JPEG quality 50): a 1 in the middle of its chip, and
    beyond the rim (which JPEG broke, so it holds nothing) a stripe of the chip's edge as high as the 1:
    the model read "14" at 0.977. A piece that far beside a number in the middle, far out in the crop,
    marks the crop odd (flagged); a seven-segment 21, its 1 a bar right in its digit's box, and a plain
    17 are not."""
    from recognizer.normalize import normalize_table

    chip = cv2.imread(str(Path(__file__).parent / "data" / "casino-chip-1-stripe-beside.png"), cv2.IMREAD_GRAYSCALE)
    _, empty, odd = normalize_table(chip[None], text_height=23.0)
    assert empty == [False] and odd == [True]
    led = np.full(chip.shape, 20, np.uint8)
    cv2.putText(led, "2", (30, 56), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 230, 3, cv2.LINE_AA)
    cv2.rectangle(led, (68, 34), (70, 56), 230, -1)  # the 1: a bar, far right in its digit's box
    plain = np.full(chip.shape, 20, np.uint8)
    cv2.putText(plain, "17", (25, 56), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 230, 3, cv2.LINE_AA)
    _, empty, odd = normalize_table(np.stack([led, plain]), text_height=23.0)
    assert empty == [False, False] and odd == [False, False]


def test_a_framed_tiles_number_is_not_read_as_a_hole_in_the_tile():
    """A real crop (the gallery's hot/cold board, 11 px at 1.5x): a framed red tile with a 36. The bands
    above and below the text line, where a number's own ground is looked for, fell on the glowing
    frame: read on that ground, the whole tile was ink and the 36 a hole in it (a sure 23). Ink far
    higher than the text is no number: the first reading, the 36, stands."""
    from recognizer.normalize import normalize_table

    crop = cv2.imread(str(Path(__file__).parent / "data" / "hot-tile-36-framed.png"), cv2.IMREAD_GRAYSCALE)
    (x,), empty, odd = normalize_table(crop[None], text_height=18.0)
    assert empty == [False] and odd == [False]
    ys, xs = np.nonzero(x[..., 0] > 0.1)
    box = x[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1, 0]
    assert (box > 0.5).mean() < 0.6  # strokes, not a filled tile (it was 0.9)


def test_a_number_cut_short_by_an_ellipsis_is_told():
    """mini.css in a narrow table draws a 23 as "2…" (`text-overflow: ellipsis`): what is left reads
    as a 2 at full confidence, so the crop is marked cut short (the reader flags it)."""
    from PIL import Image, ImageDraw, ImageFont

    from recognizer.normalize import normalize_table
    from tests.tables import font_path

    font = ImageFont.truetype(font_path("DejaVuSans.ttf"), 28)
    crops = []
    for text in ("2\u2026", "23", "7"):
        cell = Image.new("L", (80, 44), 20)
        ImageDraw.Draw(cell).text((8, 6), text, fill=235, font=font)
        crops.append(np.asarray(cell))
    _, empty, cut = normalize_table(np.stack(crops), text_height=21.0)
    assert empty == [False, False, False]
    assert cut == [True, False, False]


def crops_of(*names: str) -> np.ndarray:
    return np.stack([cv2.imread(str(Path(__file__).parent / "data" / n), cv2.IMREAD_GRAYSCALE) for n in names])


def test_a_ball_a_little_lighter_than_the_page_is_the_ground_its_number_is_read_on():
    """A real crop (the gallery's SVG balls, 1.5x): a 25 in a thick red ring around a white ball, on a
    page of grey 217. The crop's margins vote the page for background; the ball, 38 lighter, is faint
    ink then, joining the digits to the ring, and nothing is left of them. On their line's own ground,
    the ball, they are read, both digits."""
    from recognizer.normalize import ink_components, ink_maps, normalize_table

    crop = crops_of("svg-ball-25.png")
    assert ink_components(ink_maps(crop), text_height=16.0)[1][0, 1] == 0  # nothing, on the page's grey
    (x,), empty, odd = normalize_table(crop, text_height=16.0)
    cols = np.flatnonzero(x[..., 0].max(axis=0) > 0.3)
    assert empty == [False] and odd == [False] and cols[-1] - cols[0] > 14


def test_a_number_beside_the_middle_of_its_ring_is_odd_and_read_again_whole():
    """Real crops (SVG balls saved as JPEG at quality 50): a 23 whose 3 JPEG joined to the thick ring,
    so that only the 2 is left, beside the ring's middle (it read as a sure 2), and a centred 2. The
    first is odd; on its line's ground it is whole again, centred, and no longer odd."""
    from recognizer.normalize import ink_components, ink_maps, normalize_table

    crops = crops_of("svg-ball-23-jpeg.png", "svg-ball-neighbour-jpeg.png")
    _, boxes, odd = ink_components(ink_maps(crops), text_height=14.0)
    assert odd.tolist() == [True, False] and boxes[0, 3] - boxes[0, 2] < 14  # the 2 alone, off-centre
    x, empty, odd = normalize_table(crops, text_height=14.0)
    cols = np.flatnonzero(x[0, ..., 0].max(axis=0) > 0.3)
    assert empty == [False, False] and odd == [False, False] and cols[-1] - cols[0] > 14


def test_ink_far_less_high_than_the_tables_numbers_is_odd():
    """One dash of an empty place's dashed ring, alone in its crop, reads as a sure 1: among crops of
    numbers a text height high, ink half of that is odd (the reader flags it)."""
    from recognizer.normalize import normalize_table

    crops = np.full((10, 40, 40), 240, np.uint8)
    for i in range(9):
        cv2.putText(crops[i], str(10 + i), (8, 27), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 30, 1, cv2.LINE_AA)
    cv2.line(crops[9], (24, 18), (24, 21), 30, 2)  # 6 px high with its ends; the numbers' ink is 11
    _, empty, odd = normalize_table(crops, text_height=12.0)
    assert not any(empty) and odd == [False] * 9 + [True]


def test_a_ball_39_lighter_than_the_page_is_a_ground_even_where_the_first_reading_found_ink():
    """A real crop (SVG balls at 1x): the ball (255) on a page of 216 joins the 2 to the ring, and the
    first reading keeps the 5 alone, neither empty nor off its ring's middle (the ring was not told
    apart): a 25 read as a sure 5. A ground 30 from the page is plainly another one, and on it the
    number is read whole."""
    from recognizer.normalize import ink_components, ink_maps, normalize_table

    crop = crops_of("svg-ball-25-five-only.png")
    _, ((_, _, x0, x1),), _ = ink_components(ink_maps(crop), text_height=18.0)
    assert x1 - x0 < 15  # the 5 alone
    (x,), empty, odd = normalize_table(crop, text_height=18.0)
    cols = np.flatnonzero(x[..., 0].max(axis=0) > 0.3)
    assert empty == [False] and cols[-1] - cols[0] > 16


def test_the_stripes_of_a_chips_edge_beside_its_number_are_no_digits_of_it():
    """A real crop (casino chips at 1x, 15 px): a 27 inside a dashed rim, which holds nothing, with a
    stripe of the chip's edge a few pixels beyond each side, level with the number. A piece at
    either end of the ink far less high than the digits, beside them and a gap away, is dropped:
    the ink is the 27 alone (it was read as 29, and most such tables refused as no table)."""
    from recognizer.normalize import ink_components, ink_maps

    crop = crops_of("casino-chip-27-dashed-rim.png")
    _, ((y0, y1, x0, x1),), _ = ink_components(ink_maps(crop), text_height=13.0)
    assert 12 <= x1 - x0 <= 17 and y1 - y0 >= 10


@pytest.mark.parametrize("names, text_height, least", [
    (("cormorant-oldstyle-18-17px.png", "cormorant-oldstyle-32-17px.png"), 12.0, 11),
    (("playfair-oldstyle-36-1.5x-q65.png", "playfair-oldstyle-15-1.5x-q65.png"), 18.0, 20)])
def test_an_old_style_figure_of_x_height_beside_a_tall_one_is_a_digit_of_the_number(names, text_height, least):
    """Real crops (Cormorant Garamond at 17 px and Playfair Display at 20 px, 1.5x, JPEG q65, from npm's
    @fontsource, in Chromium): old-style figures. An 18 whose 1 is of x-height beside an 8 that rises
    above it, a 32 whose 2 is of x-height beside a 3 that falls below the line, a 15 whose 1 sits
    inside the 5's height: the short piece at the end was dropped as a chip's stripe (18 read as a
    sure 8, 32 as 3, 15 as 5). Close by and within the tall digit's height, it stays. And a 36 whose
    3 falls below the line while its 6 rises above the table's usual text: the 3 was dropped as off
    the line (a sure 6); the line is as tall as its tallest digit."""
    from recognizer.normalize import ink_components, ink_maps

    _, boxes, odd = ink_components(ink_maps(crops_of(*names)), text_height=text_height, borders=True, reading=True)
    widths = boxes[:, 3] - boxes[:, 2]
    assert (widths >= least).all() and not odd.any()  # both digits: one alone is at most 7 (13) px wide


def test_a_seven_segment_digits_stacked_pieces_are_kept_and_a_short_piece_beside_is_not():
    from recognizer.normalize import ink_components, ink_maps

    crops = np.full((2, 40, 44), 20, np.uint8)
    for crop in crops:
        cv2.rectangle(crop, (10, 10), (13, 29), 230, -1)  # a digit's stroke, 20 px
    cv2.rectangle(crops[0], (20, 10), (22, 18), 230, -1)  # a 1's two segments, stacked
    cv2.rectangle(crops[0], (20, 21), (22, 29), 230, -1)
    cv2.rectangle(crops[1], (22, 12), (26, 19), 230, -1)  # a stripe beside, 8 px high
    _, boxes, _ = ink_components(ink_maps(crops), text_height=20.0)
    assert boxes[0, 3] >= 22 and boxes[1, 3] <= 15


def test_a_pills_edge_beside_its_number_is_no_part_of_it():
    """Real crops (red pills on green felt, 12 px at 1.25x, JPEG quality 50): the pill's highlit top
    edge or its shadowed bottom, a few pixels from the number, is a piece three text heights wide and
    two pixels high. Kept, it made the ink box four times as wide as high, the number squeezed into
    its middle, read 35 or 36 (flagged). Left out, the number fills the model's input. So it does
    where the bands a number's own ground is looked for on fall on the pill's edges and find the
    felt: on the felt, the pill is ink, far wider than a number, and that reading is not taken."""
    from recognizer.normalize import INK_BOX, normalize_table

    for names, text_height in ((("felt-pill-12-q50.png", "felt-pill-14-q50.png"), 13.0), (("felt-pill-23-q50.png",), 16.0)):
        inputs, empty, _ = normalize_table(crops_of(*names), text_height=text_height)
        assert not any(empty)
        for x in inputs[..., 0]:
            rows = np.flatnonzero(x.max(axis=1) > 0.3)
            assert rows[-1] - rows[0] + 1 >= 0.6 * INK_BOX  # a two-digit number's height, not a sliver's


def test_a_faint_dashed_ring_is_empty():
    """A real crop (SVG balls at 1.25x, 11 px, JPEG q85): a place not drawn yet, a light grey dashed
    circle three text heights across, of which two dashes on its right side are left, 0.55 text
    heights high and 1.2 apart, higher than any number's ink: read as a sure 1 before, empty now."""
    from recognizer.normalize import normalize_table

    _, empty, _ = normalize_table(crops_of("svg-ball-faint-dashed-empty.png"), text_height=11.0)
    assert empty == [True]


def test_an_empty_places_dashed_ring_is_empty_and_seven_segment_pieces_are_a_number():
    """A real crop (SVG balls at 2x, JPEG quality 75): a place not drawn yet, a dashed grey circle.
    What is left of it inside the crop, two arcs of short dashes, read as an 11 (flagged): ink of
    only short pieces spread far higher than the text is no number. A seven-segment 1, two
    segments of half the text's height one above the other, is one."""
    from recognizer.normalize import normalize_table

    _, empty, _ = normalize_table(crops_of("svg-ball-dashed-empty.png"), text_height=19.0)
    assert empty == [True]
    led = np.full((1, 40, 30), 15, np.uint8)
    cv2.rectangle(led[0], (14, 10), (16, 18), 220, -1)
    cv2.rectangle(led[0], (14, 21), (16, 29), 220, -1)
    _, empty, _ = normalize_table(led, text_height=20.0)
    assert empty == [False]


def test_a_small_seven_segment_1_is_a_number_not_two_dashes():
    """A real crop (the LED board at 1x, 12 px): a dim 1, two segments 5 px high a pixel apart, each
    shorter than the piece a number's ink needs (TINY_INK of the table's 15 px text): the cell was
    read empty, the 1 lost without a flag. One above the other, so close, they are one bar."""
    from recognizer.normalize import normalize_table

    (x,), empty, _ = normalize_table(crops_of("led-1-two-short-segments.png"), text_height=15.0)
    rows = np.flatnonzero(x[..., 0].max(axis=1) > 0.3)
    assert empty == [False] and rows[-1] - rows[0] > 15  # the whole bar, both segments


def test_a_small_framed_tiles_number_is_read_on_the_tile():
    """A real crop (a hot/cold board at 11 px, 1x): a 35 on a dark tile inside an amber frame. The
    margins vote frame and glow for background, so the tile is ink and the number holes in it; the
    tile ends three pixels beyond the number, where the usual bands for its ground fall on the
    frame. Bands closer in find it, and the 35 is read, not left empty."""
    from recognizer.normalize import normalize_table

    (x,), empty, _ = normalize_table(crops_of("hot-tile-35.png"), text_height=10.0)
    cols = np.flatnonzero(x[..., 0].max(axis=0) > 0.3)
    assert empty == [False] and cols[-1] - cols[0] > 14


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "LiberationSerif-Regular.ttf"])
def test_two_digits_are_parted_by_a_clear_column_and_one_letter_is_not(font):
    from PIL import Image, ImageDraw, ImageFont

    from recognizer.normalize import ink_shapes

    face = ImageFont.truetype(font_path(font), 20)
    crops = []
    for text in ("14", "36", "11", "A", "H", "K", "M"):
        im = Image.new("L", (60, 32), 255)
        ImageDraw.Draw(im).text((8, 4), text, font=face, fill=0)
        crops.append(np.asarray(im))
    inputs, empty = normalize_batch(np.stack(crops))
    aspect, parted = ink_shapes(inputs)
    assert not any(empty)
    assert parted[:3].all() and not parted[3:].any()
    assert aspect[:2].min() > aspect[3:6].max()  # two digits are wider than one letter ("M" as wide as "11")


@pytest.mark.parametrize("look", [Look("light", size=14), Look("roulette", size=13, jpeg=60), Look("dark", size=20, scale=1.5)])
def test_ink_boxes_from_the_components_are_the_extent_of_their_mask(look):
    """`ink_boxes` takes each crop's ink box from its kept components' boxes, not from the mask: the
    same box, an empty crop's included (y1 == 0)."""
    from recognizer.normalize import ink_components, ink_maps

    values = random_values(8, 15, seed=5, empty_tail=4)
    image = render(values, look)
    grid = find_grid(image, TableShape(rows=8, cols=15))
    ink = ink_maps(crop_cells(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), grid))
    mask, boxes, _ = ink_components(ink, grid.text_height, borders=True, reading=True)
    for crop, (y0, y1, x0, x1) in zip(mask, boxes):
        ys, xs = np.nonzero(crop)
        if len(ys) == 0:
            assert y1 == 0 and x1 == 0
        else:
            assert (y0, y1, x0, x1) == (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)
    assert (boxes[:, 1] == 0).sum() >= 4  # the empty tail
