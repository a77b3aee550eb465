"""Cell image -> model input. The one normalising function shared by inference and training.

Polarity is decided per cell, on luminance: the background is the median grey level of the
cell's centre, ink is whatever differs from it. (Readable text differs from its background in
luminance, which is what contrast guidelines such as WCAG measure; one channel instead of
three makes every pass a third of the work.) Ink at the crop's edge (touching it, or mostly
within a thin band along it) that looks like a grid line, a cell gap, a frame corner or a
neighbouring stripe is dropped. The ink's bounding box is scaled (aspect kept) into a fixed
box centred in the model input, bright ink on black, like MNIST. Large crops (high-DPI
screenshots) are first halved by block averaging: the model sees 22 pixels of ink, so
detail beyond ~2x that is only cost.

It works on batches: crops of one size are processed together with array operations (one
connected-components pass over a mosaic of all crops, one remap for all their glyphs),
which is what makes a 120-cell table take a few milliseconds. `normalize_cell` is the same
code on a batch of one. Bump NORMALIZER_VERSION on any change to what a crop without a text
height becomes (every training crop): models record the version they were trained with and
refuse to load under another. With the table's text height (reading), a few steps more apply.
"""
from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

from recognizer.imageops import components, halve, median, row_medians

NORMALIZER_VERSION = 9
INPUT_SIZE = 28
INK_BOX = 22  # the ink is fitted into INK_BOX x INK_BOX inside INPUT_SIZE x INPUT_SIZE

MIN_CONTRAST = 40  # below this max difference from the background, a cell is empty
INK_LEVEL = 4  # ink is what differs from the background by more than 1/INK_LEVEL of the peak
BG_MARGIN = 0.15  # the background is voted on inside this margin of the crop ...
BG_SAMPLES = 100  # ... by about this many pixels
EDGE_THIN = 0.15  # edge-touching components thinner than this fraction of the crop are line fragments
EDGE_SPAN = 0.9  # edge-touching components spanning this fraction of the crop are frames / stripes
EDGE_BAND = 0.1  # components with most of their ink this close to the crop edge are lines / corners
SPECK_AREA = 0.004  # components smaller than this fraction of the crop's height squared are noise (not its
# area: a number in a wide cell is as big as in a narrow one)
STRONG_INK = 0.5  # a component whose ink never reaches this share of its crop's strongest is faint
CORE_INK = 0.4  # a stroke's core: this share of the strongest ink in the crop's centre (a thin 1 in small text: ~0.5)
SMOOTH_INK = 0.15  # weak ink whose 3x3 neighbourhood varies by less than this share of the peak is a gradient
NEAR_STRONG = 1  # a patch of weak ink further than this (pixels) from any core is shine, not a stroke's rim
LINE_ASPECT = 8  # a component this many times longer than thick, across the crop, is a line
SPECK_TEXT = 0.5  # with the table's text height known, specks are under this * its height (pixels)
LINE_OVERHANG = 0.25  # ... and nothing of a number reaches further out of it than this many text heights
LINE_REACH = 1.2  # the line of text: this many text heights (or its own heights, if taller) from a stroke's bottom up and top down
ELLIPSIS_DOT = 0.25  # an ellipsis's dots are at most this many text heights wide and high, ...
ELLIPSIS_LINE = 0.12  # ... their bottoms this close to the number's, ...
ELLIPSIS_REACH = 1.6  # ... and all of them within this of its right edge (an ellipsis is about 1.3 text heights wide)
TINY_INK = 0.35  # with the text height known, a crop's ink holds a piece at least this many text heights long
SEGMENT_GAP = 0.1  # ... or two, one over the other, this many text heights apart (a seven-segment 1's halves) ...
SEGMENT_WIDTH = 0.5  # ... each at most this many times as wide as high
END_PIECE = 0.7  # a piece at either end of a crop's ink less high than this * its tallest, ...
END_GAP = 0.15  # ... this many text heights or more beside the rest, is no digit of the number, ...
OLDSTYLE_PIECE = 0.5  # ... unless it is at least this * the tallest high, within its height (give or take
OLDSTYLE_LEVEL = 0.1  # this many text heights) and less than OLDSTYLE_GAP from the rest (a chip's stripe
OLDSTYLE_GAP = 0.35  # lies further out): an old-style 1, 2 or 0 of x-height beside a 6 or 8 rising above it
# or a 3, 4, 5, 7 or 9 falling below the line, Garamond's, Playfair's or Georgia's
APART_GAP = 0.45  # a piece of any height this far beside the rest (segment.DIGIT_GAP parts numbers so), ...
RIM_OFF = 1.0  # ... centred this many text heights or more from the crop's middle, the rest within CENTRED, ...
CENTRED = 0.5
BAR_WIDTH = 0.35  # ... and no bar (narrower than this * its height: a seven-segment 1), makes the crop odd
DASH_PIECE = 0.5  # one piece of ink alone less high than this many text heights is a dash, no number ...
SHORT_DASH = 0.65  # ... and pieces less high than this, ...
DASH_SPREAD = 1.1  # ... spread over more than this many (a number is one high), are a dashed outline
SHORT_INK = 0.8  # ink less high than this * the table's numbers' (of SHORT_SAMPLE or more) is odd for a number
SHORT_SAMPLE = 8
TALLER_INK = 1.3  # a reading on the text line's own ground whose ink is this many text heights high ...
WIDER_INK = 2.5  # ... or this many wide (segment.MAX_NUMBER_WIDTH) is not taken
HOLLOW = 0.5  # a ring or frame covers at most this share of its box
TALL_INK = 1.6  # ink this many times taller than the table's text is structure, never a digit
BORDER_RUN = 3  # a column of ink down a crop at most this many pixels wide is a cell's border, dropped before all
FLAT_INK = (1.0, 0.25)  # a piece this many text heights wide or more and less than this high is no digit's (a
# pill's or chip's edge over or under its number, an underline); a digit's bar is half a text height wide
ROUND_ASPECT = np.log(1.3)  # a ring, ball or chip is about as wide as high: within this (log) of 1
OFF_CENTRE = 0.25  # a number further than this many text heights from its ring's middle lost a part
INNER_HEIGHT = (0.25, 1.05)  # a ring is taller than what it holds, at most 4x: (min, max) inner/outer height
ZERO_NARROW = 0.75  # an outline less wide than this * its height is a 0 (rings are round, frames as wide as cells) ...
ZERO_MARK = (0.35, 0.6)  # ... and a mark in it at most this share of its width and height, its dot or bar (Hack's bar, Cousine's dot)
PAIR_INK = 0.25  # an input's ink, for its shape (`ink_shapes`): this share of its peak ...
PAIR_GAP = 0.2  # ... and the middle of its width, less this share at each side, where two digits part
MIN_CROP = 4  # crops smaller than this (pixels, either side) are empty
LINE_GAP = 0.2  # the ground a number sits on is sampled this many text heights above and below its line ...
EVEN_GROUND = 0.75  # ... where this share of the samples is within MIN_CONTRAST / 2 of their median
LINE_SHIFTS = (0.0, -0.25, 0.25, -0.5, 0.5)  # text heights from the crop's middle row where the line is looked for
WORK_HEIGHT = 32  # crops at least twice this high are halved (repeatedly) before anything else ...
MIN_WORK_TEXT = 16  # ... unless their text (when known) would be lower than this (pixels) ...
MAX_WORK_HEIGHT = 8 * WORK_HEIGHT  # ... or they are at least this high (pixels): the cost stays bounded
_RIM = np.ones((3, 3), np.uint8)
_OFF = -8.0  # a remap coordinate off the source: reads as 0
MOSAIC_ROWS = 30_000  # remap addresses its source in 16-bit fixed point


def grey(cell: np.ndarray) -> np.ndarray:
    """A crop as one uint8 luminance channel (grey crops pass through)."""
    if cell.ndim == 2:
        return cell
    return cell[..., 0] if cell.shape[2] == 1 else cv2.cvtColor(cell, cv2.COLOR_BGR2GRAY)


def background_levels(cells: np.ndarray) -> np.ndarray:
    """(N, h, w) uint8 -> (N,) background grey levels: the median of each crop's centre.
    Central, because neighbouring cells, gaps and lines show up at the edges; a median,
    because ink covers well under half of a cell's centre."""
    n, h, w = cells.shape
    my, mx = int(h * BG_MARGIN), int(w * BG_MARGIN)
    # About BG_SAMPLES evenly spaced pixels vote: the same answer as all of them, for a
    # fraction of the sorting.
    step = max(1, round(((h - 2 * my) * (w - 2 * mx) / BG_SAMPLES) ** 0.5))
    return row_medians(cells[:, my : h - my : step, mx : w - mx : step].reshape(n, -1))


def line_grounds(cells: np.ndarray, text_height: float, apart: np.ndarray | float = MIN_CONTRAST,
                 close: bool = False) -> np.ndarray:
    """(N, h, w) uint8 crops -> (N,) the grey of two bands, one just above and one just below the line
    of text, across the crop's middle third, where they are one even grey that differs from
    `background_levels` by `apart` or more (NaN elsewhere): the ground a number sits on where most of
    the crop's centre is something else (a white ball inside a thick coloured ring). The line is about
    the crop's middle row (a first row's crop reaches further towards its header: it is looked for a
    little up and down). A band on a grid line or on a neighbour's digits is not even, or not the
    same above and below. `close`: the bands a pixel beyond the text's marks, not LINE_GAP."""
    levels = background_levels(cells)
    n, h, w = cells.shape
    out = np.full(n, np.nan)
    off = text_height / 2 + (1.0 if close else max(1.0, LINE_GAP * text_height))
    for shift in LINE_SHIFTS:
        top, bottom = (int(round(h / 2 + shift * text_height + d)) for d in (-off, off))
        if top < 0 or bottom >= h or w < 6:
            continue
        bands = cells[:, [top, bottom], w // 3 : w - w // 3].astype(np.int16)  # (N, 2, k)
        above, below = row_medians(bands[:, 0]), row_medians(bands[:, 1])
        ground = (above + below) / 2
        even = ((np.abs(bands - ground[:, None, None]) <= MIN_CONTRAST // 2).mean(axis=2) >= EVEN_GROUND).all(axis=1)
        own = np.isnan(out) & even & (np.abs(above - below) <= MIN_CONTRAST // 2) & (np.abs(ground - levels) >= apart)
        out[own] = ground[own]
        if not np.isnan(out).any():
            break
    return out


def ink_maps(cells: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
    """(N, h, w) grey crops -> their difference from each crop's background (ink is bright) as a
    mosaic: (N, h + 1, w) uint8, a blank row after each crop so that later passes over all
    crops at once (connected components, dilation, remap) never join two crops. The background
    levels are `background_levels`' unless given."""
    n, h, w = cells.shape
    padded = np.zeros((n, h + 1, w), np.uint8)
    padded[:, :h] = cells
    levels = background_levels(cells) if levels is None else levels
    bg = np.repeat(np.round(levels).astype(np.uint8), (h + 1) * w)
    ink = cv2.absdiff(padded.reshape(-1, w), bg.reshape(-1, w)).reshape(n, h + 1, w)
    ink[:, h] = 0
    return ink


def shrink(cells: np.ndarray, text_height: float | None = None) -> np.ndarray:
    """(N, h, w) -> the same crops halved (2x2 block averages) until under 2 * WORK_HEIGHT high,
    and, with the table's `text_height` known, only while the text stays MIN_WORK_TEXT high: small
    text in tall cells (a data grid's 52 px rows) keeps the detail that tells a 1 from a 7.

    Each halving is one resize of the stacked crops (blocks never straddle two crops: an odd
    last row or column, edge pixels that hold no number, is dropped first)."""
    scale = 1
    while cells.shape[1] >= 2 * WORK_HEIGHT and (not text_height or text_height / (2 * scale) >= MIN_WORK_TEXT
                                                 or cells.shape[1] >= MAX_WORK_HEIGHT):
        scale *= 2
        n, h, w = cells.shape
        h -= h % 2  # even crops: no 2x2 block straddles two of them once stacked
        cells = halve(np.ascontiguousarray(cells[:, :h]).reshape(n * h, w)).reshape(n, h // 2, w // 2)
    return cells


def ink_components(ink: np.ndarray, text_height: float | None = None, borders: bool = False, reading: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ink mosaic (N, h + 1, w) -> the number's strokes in each crop: a 0/1 mask (N, h + 1, w) of
    the kept components' ink (found once patches of shine are gone, `near_cores`), and each crop's
    ink box (N, 4) as y0, y1, x0, x1 (y1 == 0: no ink, the cell is empty). With the table's
    `text_height` (in these crops' pixels), ink much taller than the table's text is not part of
    a number (an arc of a chip's rim or ring that the background's gradient broke open), nor a
    piece far wider than high (a pill's edge over its number, an underline), nor is ink outside the
    ring that holds the number (`outside_rings`), nor dots and dashes alone;
    specks are judged against the text, not the crop (small text in tall cells). Training crops
    come without it: these only drop ink no number has, or keep strokes a number has. Also, per
    crop, whether what it holds is odd for a number (only with the text height): cut short by an
    ellipsis (`ellipsis_after`), beside the middle of its ring, or with a piece far beside it
    (`apart_from_number`): the model's reading of it is to be checked, however sure. With `borders`
    too (a crop's first reading, on its own background), a cell's thin side border goes first
    (`without_borders`), so that a number touching it stays. `reading` (implied by the text height):
    a narrow 0 around its own dot or bar is no ring (`nested`); training crops come without it."""
    n, rows, w = ink.shape
    h = rows - 1
    peak = ink.reshape(n, -1).max(axis=1).astype(np.int32)
    # A low threshold: a grid line or a bold stroke may set the peak, and a light font's
    # strokes must still be whole. Noise this lets in is small, or touches the edge.
    threshold = np.where(peak >= MIN_CONTRAST, np.maximum(MIN_CONTRAST // 2, peak // INK_LEVEL), 255)
    mosaic = (ink > threshold[:, None, None].astype(np.uint8)).view(np.uint8)
    # Before components are found: a gradient's shine would join a number to a chip's rim.
    mosaic = near_cores(ink, mosaic)
    if text_height and borders:  # not on a text line's own ground, where all around it is "ink"
        mosaic = without_borders(mosaic, text_height)
    mosaic = mosaic.reshape(n * rows, w)
    count, labels, stats = components(mosaic)
    x, y_abs, bw, bh, area = (stats[1:, i] for i in range(5))
    crop, y = np.divmod(y_abs, rows)  # which crop, and the position inside it
    touches = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    line_like = (bw < EDGE_THIN * w) | (bh < EDGE_THIN * h) | (bw > EDGE_SPAN * w) | (bh > EDGE_SPAN * h)
    # A number reaches into the crop's centre; corners and ends of lines at the edge do not.
    my, mx = h * BG_MARGIN, w * BG_MARGIN
    off_centre = (x + bw <= mx) | (x >= w - mx) | (y + bh <= my) | (y >= h - my)
    # Ink mostly in the border band is a line, a corner of a frame or a neighbour's edge,
    # touching the crop or a pixel or two in from it; a number's ink is mostly inside.
    band = max(1, int(EDGE_BAND * min(h, w)))
    crop_labels = labels.reshape(n, rows, w)
    crops = crop_labels[:, :h]
    strips = (crops[:, :band], crops[:, h - band :], crops[:, band : h - band, :band], crops[:, band : h - band, w - band :])
    in_band = sum(np.bincount(s.ravel(), minlength=count) for s in strips)
    at_edge = in_band[1:] * 2 > area
    speck = SPECK_AREA * h * min(h, w)
    if text_height:  # small text in a tall cell: a thin 1 is about as many pixels as the text is high
        speck = min(speck, SPECK_TEXT * text_height)
    big_enough = area >= max(2.0, speck)
    # A thin line across the crop, wherever it lies (a cell's own frame inside a wide cell).
    rule = ((bh >= EDGE_SPAN * h) & (bw * LINE_ASPECT < bh)) | ((bw >= EDGE_SPAN * w) & (bh * LINE_ASPECT < bw))
    shapes = big_enough & ~at_edge & ~(touches & (line_like | off_centre)) & ~rule
    candidates = shapes.copy()
    if text_height:
        flat = (bw >= FLAT_INK[0] * text_height) & (bh < FLAT_INK[1] * text_height)
        candidates &= (bh <= TALL_INK * text_height) & ~flat
    weak = faint(ink, crop_labels, candidates, union_box(x, y, bw, bh, candidates))
    candidates &= ~weak
    if text_height:
        candidates &= ~off_the_line(crop, y, bh, area, candidates, h, text_height)
    kept = candidates & ~enclosing(crop, x, y, bw, bh, candidates, crop_labels if text_height else None,
                                   zeros=reading or bool(text_height))
    if text_height:
        # Holders are thin (a ring, a frame: not a patch of shine around a digit) and strong.
        holders = shapes & (area <= HOLLOW * bw * bh) & ~weak
        outside, ring_centre2 = outside_rings(crop, x, y, bw, bh, kept, holders, crop_labels, touches, n)
        kept &= ~outside
        # Dots and dashes alone (an empty place's dashed outline) are no number: a crop's ink needs a
        # piece of some size, as every digit has.
        sized = kept & (np.maximum(bw, bh) >= TINY_INK * text_height)
        lone = kept & (np.bincount(crop[sized], minlength=n) == 0)[crop]  # in crops with no piece of size
        if lone.any():
            sized |= stacked_bar(crop, x, y, bw, bh, lone, text_height)
        kept &= (np.bincount(crop[sized], minlength=n) > 0)[crop]
    odd = np.zeros(n, bool)
    if text_height:
        dots, odd = ellipsis_after(crop, x, y, bw, bh, area, kept, n, text_height)
        kept &= ~dots
        apart, beside = apart_from_number(crop, x, y, bw, bh, kept, n, text_height, w)
        kept &= ~apart
        odd |= beside
        kept &= ~dashed_outline(crop, y, bh, kept, n, text_height)
    keep = np.zeros(count, np.uint8)
    keep[1:] = kept
    boxes = ink_boxes(crop[kept], x[kept], y[kept], bw[kept], bh[kept], n, rows, w)
    mask = np.zeros((n, rows, w), np.uint8)  # the kept pixels all lie inside the union of the ink boxes
    if (window := union_box(x, y, bw, bh, kept)) is not None:
        y0, y1, x0, x1 = window
        mask[:, y0:y1, x0:x1] = np.take(keep, crop_labels[:, y0:y1, x0:x1], mode="clip")  # in range: unchecked
    if text_height:
        ink_h = boxes[:, 1] - boxes[:, 0]
        # A number sits in the middle of its ring: one beside the middle lost a digit to the ring
        # (JPEG joins a 3 to a thick ring around it, and "23" reads as a sure 2).
        off = np.abs(boxes[:, 2] + boxes[:, 3] - ring_centre2) > 2 * OFF_CENTRE * text_height
        odd |= (ink_h > 0) & (ring_centre2 >= 0) & off
    return mask, boxes, odd


def stacked_bar(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, short: np.ndarray,
                text_height: float) -> np.ndarray:
    """Per component: whether it and another `short` one of its crop, both bars (far narrower than
    high: not an 8's two holes), one above the other, overlapping across and at most SEGMENT_GAP text
    heights (a pixel at least) apart, make a bar TINY_INK text heights long: a seven-segment 1 at
    small sizes is two short segments, each a dash alone."""
    out = np.zeros(len(x), bool)
    gap = max(1.0, SEGMENT_GAP * text_height)
    bars = short & (w <= SEGMENT_WIDTH * h)
    for c in np.unique(crop[bars]):  # few crops: those whose kept pieces are all short
        ids = np.flatnonzero(bars & (crop == c))
        i, j = (a.ravel() for a in np.meshgrid(ids, ids, indexing="ij"))
        pair = ((x[i] < x[j] + w[j]) & (x[j] < x[i] + w[i]) & (y[j] - (y[i] + h[i]) >= 0)
                & (y[j] - (y[i] + h[i]) <= gap) & (y[j] + h[j] - y[i] >= TINY_INK * text_height))
        out[i[pair]] = out[j[pair]] = True
    return out


def apart_from_number(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray,
                      kept: np.ndarray, n: int, text_height: float, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Kept components at either end of a crop's ink that are no digit of its number: far less high
    than its tallest piece (END_PIECE), wholly beside the rest (not above or below a piece of it, as
    a seven-segment digit's are) and a gap from it (END_GAP): the stripes of a chip's edge level with
    its number, where the rim inside is dashed and holds nothing (in a 27 or a 6, read as a sure 29
    or not read at all). A piece close by and within the tallest's height stays (OLDSTYLE_PIECE): an
    old-style figure of x-height ("18" of Cormorant read as a sure 8 without its 1). And (n,)
    whether a crop's ink has a piece of any height as far beside the rest as segmentation parts
    two numbers (APART_GAP), far out in the crop (RIM_OFF) while the rest
    is about its middle (CENTRED), no bar: a chip's stripe as high as its number beside a 1 (read as a
    sure 14), or one number beside another in a crop that holds two; to be checked, for it may be a
    digit (a seven-segment 21's 1 sits that far from its 2, and, left-aligned in its tile, the 2 from
    the middle: bars, and not in the middle)."""
    out, beside = np.zeros(len(x), bool), np.zeros(n, bool)
    idx = np.flatnonzero(kept)
    if len(idx) < 2:
        return out, beside
    order = idx[np.lexsort((x[idx], crop[idx]))]  # by crop, then left to right
    c, left, right, high = crop[order], x[order], x[order] + w[order], h[order]
    top = y[order]
    firsts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])  # each crop's pieces: firsts[i] .. lasts[i]
    lasts = np.r_[firsts[1:], len(order)] - 1
    is_last = np.zeros(len(order), bool)
    is_last[lasts] = True
    tallest = np.maximum.reduceat(high, firsts)
    # The tallest piece's top and bottom, per crop (its first, left to right, if two are as high).
    group = np.cumsum(np.r_[False, c[1:] != c[:-1]])
    at = np.flatnonzero(high == tallest[group])
    at = at[np.r_[True, group[at][1:] != group[at][:-1]]]
    tall_top, tall_bottom = top[at], top[at] + high[at]
    before_last = np.maximum.reduceat(np.where(is_last, -1, right), firsts)  # the rest's right end
    far_right = np.maximum.reduceat(right, firsts)
    several = lasts > firsts
    firsts, lasts, tallest, before_last, far_right, tall_top, tall_bottom = (
        a[several] for a in (firsts, lasts, tallest, before_last, far_right, tall_top, tall_bottom))
    # The first piece: the rest starts at the second's left edge (sorted), after the first ends.
    gap_first = left[firsts + 1] - right[firsts]
    # The last piece: the rest ends where the furthest right edge before it does.
    gap_last = left[lasts] - before_last
    short = END_PIECE * tallest
    level = max(1.0, OLDSTYLE_LEVEL * text_height)

    def stray(piece: np.ndarray, gap: np.ndarray) -> np.ndarray:
        oldstyle = ((high[piece] >= OLDSTYLE_PIECE * tallest) & (gap < OLDSTYLE_GAP * text_height)
                    & (top[piece] >= tall_top - level) & (top[piece] + high[piece] <= tall_bottom + level))
        return (gap >= END_GAP * text_height) & (high[piece] < short) & ~oldstyle
    out[order[firsts[stray(firsts, gap_first)]]] = True
    out[order[lasts[stray(lasts, gap_last)]]] = True
    # Twice the distances from the crop's middle: of an end piece's centre, and of the rest's.
    wide = w[order] >= BAR_WIDTH * high
    far, mid = 2 * RIM_OFF * text_height, 2 * CENTRED * text_height
    first_out = ((gap_first >= APART_GAP * text_height) & wide[firsts]
                 & (np.abs(left[firsts] + right[firsts] - width) >= far)
                 & (np.abs(left[firsts + 1] + far_right - width) <= mid))
    last_out = ((gap_last >= APART_GAP * text_height) & wide[lasts]
                & (np.abs(left[lasts] + right[lasts] - width) >= far)
                & (np.abs(left[firsts] + before_last - width) <= mid))
    still = ~out[order[firsts]] & first_out | ~out[order[lasts]] & last_out  # not dropped as a stripe already
    beside[c[firsts[still]]] = True
    return out, beside


def dashed_outline(crop: np.ndarray, y: np.ndarray, h: np.ndarray, kept: np.ndarray, n: int,
                   text_height: float) -> np.ndarray:
    """Kept components of the crops whose ink is only short pieces spread higher than a number, or
    one short piece alone: the dashes of an empty place's dashed ring (a ball or a pill not drawn
    yet), whose arcs either side read as an 11, or the one of them left inside the crop, read as a
    1; a dash standing for no number. A number's ink is a text height high, and holds a piece of
    some height (a seven-segment digit's segments are half of it, and no digit is one of them)."""
    idx = np.flatnonzero(kept)
    out = np.zeros(len(y), bool)
    if len(idx) == 0:
        return out
    tallest, top, bottom = np.zeros(n), np.full(n, np.inf), np.full(n, -np.inf)
    np.maximum.at(tallest, crop[idx], h[idx])
    np.minimum.at(top, crop[idx], y[idx])
    np.maximum.at(bottom, crop[idx], (y + h)[idx])
    alone = np.bincount(crop[idx], minlength=n) == 1
    short = tallest < SHORT_DASH * text_height
    dashed = ((tallest < DASH_PIECE * text_height) & alone) | (short & (bottom - top > DASH_SPREAD * text_height))
    out[idx] = dashed[crop[idx]]
    return out


def ellipsis_after(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, area: np.ndarray,
                   kept: np.ndarray, n: int, text_height: float) -> tuple[np.ndarray, np.ndarray]:
    """The dots of an ellipsis after a crop's number (components), and (n,) whether a crop's number is
    followed by three of them on its baseline: text cut short ("2…" of a 23 in a cell too narrow for
    it, CSS `text-overflow: ellipsis`). What is left of the number reads as a number it is not."""
    size = ELLIPSIS_DOT * text_height
    # Round and small (not pieces of a rim: arcs).
    dotlike = (area >= 2) & (w <= size) & (h <= size) & (2 * w >= h) & (2 * h >= w)
    number = kept & ~dotlike
    if not number.any():
        return np.zeros(len(x), bool), np.zeros(n, bool)
    right, bottom = np.full(n, -1), np.full(n, -1)
    np.maximum.at(right, crop[number], (x + w)[number])
    np.maximum.at(bottom, crop[number], (y + h)[number])
    dot = (dotlike & (bottom[crop] >= 0) & (np.abs(y + h - bottom[crop]) <= ELLIPSIS_LINE * text_height)
           & (x >= right[crop] - 1) & (x + w <= right[crop] + ELLIPSIS_REACH * text_height))
    cut = np.bincount(crop[dot], minlength=n) >= 3
    return dot & cut[crop], cut


def without_borders(mask: np.ndarray, text_height: float) -> np.ndarray:
    """The ink mask (N, h + 1, w) 0/1 without thin columns of ink down the whole crop (taller than
    TALL_INK text heights too: no digit's stroke), a cell's side border: a number
    touching its border would be dropped with it, as a line, and the cell read empty (mini.css's
    first column, left-aligned)."""
    n, rows, w = mask.shape
    h = rows - 1
    # Down the whole crop, as a table's border runs on past the cell (a tile's frame ends inside it).
    full = mask[:, :h].sum(axis=1, dtype=np.int32) >= max(h - 1, TALL_INK * text_height)  # (N, w)
    if not full.any():
        return mask
    # Thin runs only (BORDER_RUN pixels): a frame's side of some thickness stays whole, as it was.
    flat = np.pad(full, ((0, 0), (0, 1))).ravel()  # a gap after each crop's columns: runs end there
    run = np.cumsum(np.diff(flat.astype(np.int8), prepend=0) == 1) * flat  # 1, 2, ... per run, 0 between
    thin = (np.bincount(run, minlength=1) <= BORDER_RUN)[run] & flat
    keep = ~thin.reshape(n, w + 1)[:, :w]
    return mask * keep[:, None, :].view(np.uint8)


def near_cores(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The ink mask (N, h + 1, w) 0/1 without the patches of weak ink more than NEAR_STRONG pixels
    from a stroke's core (CORE_INK of the strongest ink in the crop's centre, where grid lines and
    neighbours are not): a gradient's shine that the low threshold joins to a number (a chip's
    highlight beside it), and without the weak ink that lies on a gradient (SMOOTH_INK), near a core
    or not. A stroke's anti-aliased rim, weak too, lies right beside its core, on a steep slope, and
    stays."""
    n, rows, w = ink.shape
    h = rows - 1
    my, mx = int(h * BG_MARGIN), int(w * BG_MARGIN)
    peak = ink[:, my : h - my, mx : w - mx].reshape(n, -1).max(axis=1)
    # On the mosaic's transpose, the crops side by side (OpenCV's filters pay per row; the kernel
    # is symmetric, so each filter gives the transpose of its result on the mosaic), once for all.
    ink_t = np.ascontiguousarray(ink.reshape(-1, w).T)
    mask_t = np.ascontiguousarray(mask.reshape(-1, w).T)
    core = (mask_t & (ink_t > np.repeat((peak * CORE_INK).astype(np.uint8), rows)[None, :])).view(np.uint8)
    near = core
    for _ in range(NEAR_STRONG):  # a pixel at a time, so that the blank row (here column) between crops stops it
        near = cv2.dilate(near, _RIM)
        near[:, rows - 1 :: rows] = 0
    # Weak ink far from any core is dropped only where it is a patch (wider than _RIM): a hairline
    # font's strokes are weak all along, but thin, and stay.
    patches = cv2.morphologyEx(mask_t & (1 - near), cv2.MORPH_OPEN, _RIM)
    # Weak ink where the ink barely changes within a pixel is a gradient, wherever it lies (a
    # highlight in the narrow band between a digit's core and the threshold's edge); a stroke's
    # rim always lies on the steep slope between its core and the background.
    weak = mask_t & (1 - core)
    slope = cv2.morphologyEx(ink_t, cv2.MORPH_GRADIENT, _RIM)
    smooth = (slope < np.repeat((peak * SMOOTH_INK).astype(np.uint8), rows)[None, :]).view(np.uint8)
    kept = mask_t & (1 - patches) & (1 - (weak & smooth))
    return np.ascontiguousarray(kept.T).reshape(n, rows, w)


def ink_boxes(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, n: int, rows: int,
              width: int) -> np.ndarray:
    """The kept components' crops and boxes (in their crops) -> each of the `n` crops' ink box (N, 4) as
    y0, y1, x0, x1 (y1 == 0: no ink): the union of its components' boxes, as the mask of their pixels
    has it (from the boxes: reducing the mask along its short rows costs ten times as much)."""
    boxes = np.empty((n, 4), np.int64)
    boxes[:] = (rows - 1, 0, width, 0)
    np.minimum.at(boxes[:, 0], crop, y)
    np.maximum.at(boxes[:, 1], crop, y + h)
    np.minimum.at(boxes[:, 2], crop, x)
    np.maximum.at(boxes[:, 3], crop, x + w)
    return boxes


def union_box(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, which: np.ndarray
              ) -> tuple[int, int, int, int] | None:
    """The box (y0, y1, x0, x1, in every crop alike) that holds the `which` components, or None."""
    if not which.any():
        return None
    return int(y[which].min()), int((y + h)[which].max()), int(x[which].min()), int((x + w)[which].max())


def faint(ink: np.ndarray, labels: np.ndarray, candidates: np.ndarray,
          window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Components (all of them) none of whose pixels reaches STRONG_INK of the strongest candidate
    ink in their crop: a chip's gradient highlight or a soft shadow, never part of the number,
    whose strokes all reach about the same contrast. `window` (y0, y1, x0, x1 in every crop) holds
    all the candidates' pixels, if known."""
    count = len(candidates) + 1
    is_candidate = np.zeros(count, np.uint8)
    is_candidate[1:] = candidates
    # The candidates' ink lies inside their boxes' union: only that window is looked at.
    y0, y1, x0, x1 = window or (0, ink.shape[1], 0, ink.shape[2])
    ink_in, labels_in = ink[:, y0:y1, x0:x1], labels[:, y0:y1, x0:x1]
    peak = (ink_in * np.take(is_candidate, labels_in, mode="clip")).reshape(len(ink), -1).max(axis=1)  # take: fancy indexing is slower
    strong = ink > (peak * STRONG_INK).astype(np.uint8)[:, None, None]
    return np.bincount(labels[strong], minlength=count)[1:] == 0


def off_the_line(crop: np.ndarray, y: np.ndarray, h: np.ndarray, area: np.ndarray, candidates: np.ndarray,
                 crop_height: int, text_height: float) -> np.ndarray:
    """Components mostly outside the line of text, or reaching well out of it: an arc of a chip's
    rim above or below the number. The line is that of the candidate nearest the crop's middle
    row (crops are centred on their row's text; the larger one of two as near): it reaches
    LINE_REACH text heights up from that component's bottom and down from its top (a digit in
    pieces stays whole), or LINE_REACH of its own height where it is taller (old-style figures:
    a 6 rising above the table's usual ink, the 3 of its 36 falling below the line)."""
    idx = np.flatnonzero(candidates)
    out = np.zeros(len(candidates), bool)
    if len(idx) == 0:
        return out
    off_middle = np.abs(2 * y[idx] + h[idx] - crop_height)  # doubled: integers
    order = np.lexsort((-area[idx], off_middle, crop[idx]))  # per crop: nearest the middle first
    first = np.ones(len(order), bool)
    first[1:] = crop[idx][order][1:] != crop[idx][order][:-1]
    anchor = np.zeros(int(crop.max()) + 1, np.int64)
    anchor[crop[idx][order][first]] = idx[order][first]
    a = anchor[crop[idx]]
    reach = LINE_REACH * np.maximum(text_height, h[a])
    lo, hi = (y[a] + h[a]) - reach, y[a] + reach
    inside = np.clip(np.minimum(y[idx] + h[idx], hi) - np.maximum(y[idx], lo), 0, None)
    beyond = np.maximum(lo - y[idx], y[idx] + h[idx] - hi)  # how far it reaches out of the line
    out[idx] = (inside * 2 < h[idx]) | (beyond > LINE_OVERHANG * text_height)
    return out


def enclosing(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray,
              candidates: np.ndarray, labels: np.ndarray | None = None, zeros: bool = False) -> np.ndarray:
    """Components around another of the same crop: a ring, a chip's rim or a frame around the
    number, never a digit (a digit's holes hold no ink). Only candidates count as the inner one,
    and only inner ones of some size: JPEG specks in a 0's hole do not make it a ring. With the
    crops' `labels` (reading), the outer one must lie on all four sides of the inner one's centre
    (`surrounds`), not just have it in its box. `zeros`: as `nested`."""
    idx = np.flatnonzero(candidates)
    out = np.zeros(len(x), bool)
    if len(idx) < 2:
        return out
    _, around = nested(crop, x, y, w, h, idx, idx, zeros=zeros)
    if labels is not None:
        around = surrounds(labels, idx, idx, around, crop, x, y, w, h)
    out[idx] = around.any(axis=1)
    return out


def nested(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, outer: np.ndarray,
           inner: np.ndarray, zeros: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(len(outer), len(inner)): whether each `inner` component's centre lies in each `outer` one's
    box, in the same crop; and whether, besides, it is of a size an outline holds (INNER_HEIGHT) and,
    with `zeros`, is not the dot or bar in a monospace font's 0 (ZERO_NARROW, ZERO_MARK), which holds
    no number. Only when reading (`ink_components`' `reading`): training crops, and so the shipped model,
    were made without it (a model trained with it read win98's pixel font worse, 4 cells silently
    wrong in a gallery draw)."""
    inside = np.zeros((len(outer), len(inner)), bool)
    held = np.zeros_like(inside)
    if len(outer) == 0 or len(inner) == 0:
        return inside, held
    # Only the pairs of one crop are compared (a few per crop, not all of the table's squared).
    by_crop_o, by_crop_i = np.argsort(crop[outer], kind="stable"), np.argsort(crop[inner], kind="stable")
    sorted_i = crop[inner][by_crop_i]
    first = np.searchsorted(sorted_i, crop[outer][by_crop_o], "left")
    count = np.searchsorted(sorted_i, crop[outer][by_crop_o], "right") - first
    a = np.repeat(by_crop_o, count)
    b = by_crop_i[np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())]
    o, i = outer[a], inner[b]
    cx2, cy2 = 2 * x[i] + w[i], 2 * y[i] + h[i]  # doubled centres: integer arithmetic
    pair_inside = (2 * x[o] < cx2) & (cx2 < 2 * (x[o] + w[o])) & (2 * y[o] < cy2) & (cy2 < 2 * (y[o] + h[o]))
    inside[a, b] = pair_inside
    zero = zeros & (w[o] < ZERO_NARROW * h[o]) & (w[i] <= ZERO_MARK[0] * w[o]) & (h[i] <= ZERO_MARK[1] * h[o])
    held[a, b] = pair_inside & (h[i] * INNER_HEIGHT[1] < h[o]) & (h[i] > INNER_HEIGHT[0] * h[o]) & ~zero
    return inside, held


def surrounds(labels: np.ndarray, outer: np.ndarray, inner: np.ndarray, pairs: np.ndarray, crop: np.ndarray,
              x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """`pairs` (len(outer), len(inner)) of components whose boxes nest, kept where the outer one has
    pixels left, right, above and below the inner one, on its centre's row and column: a ring does,
    a pixel font's 2 joined to a 7's bar, around the 7's stem that a faint pixel parted from it, does not."""
    out = pairs.copy()
    for o, i in zip(*np.nonzero(pairs)):
        a, b = outer[o], inner[i]
        cy, cx = y[b] + h[b] // 2, x[b] + w[b] // 2
        row, col = labels[crop[b], cy], labels[crop[b], :, cx]
        own = a + 1  # component k is label k + 1
        out[o, i] = ((row[: x[b]] == own).any() and (row[x[b] + w[b] :] == own).any()
                     and (col[: y[b]] == own).any() and (col[y[b] + h[b] :] == own).any())
    return out


def outside_rings(crop: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray,
                  candidates: np.ndarray, shapes: np.ndarray, labels: np.ndarray, touches: np.ndarray,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidates outside the ring, rim or frame that holds a crop's number (any of `shapes` around a
    candidate, `enclosing`'s sizes; a chip's inner rim is often taller than text may be): the stripes
    of a chip's edge beside its number, a neighbour's edge beyond a cell's frame. Also, per crop of
    the `n`, the doubled centre x of its round holder (a ring, a ball, a chip; not `touches` the
    crop's edge), -1 where none."""
    inner, outer = np.flatnonzero(candidates), np.flatnonzero(shapes)
    out, centre2 = np.zeros(len(x), bool), np.full(n, -1, np.int64)
    if len(inner) == 0 or len(outer) == 0:
        return out, centre2
    inside, held = nested(crop, x, y, w, h, outer, inner, zeros=True)
    rings = surrounds(labels, outer, inner, held, crop, x, y, w, h).any(axis=1)
    ringed = np.zeros(int(crop.max()) + 1, bool)
    ringed[crop[outer[rings]]] = True
    out[inner] = ringed[crop[inner]] & ~inside[rings].any(axis=0)  # whatever its size, inside a ring is the number's
    # Whole in the crop (a cut-off outline's middle is not its ring's), and about as wide as high.
    whole = ~touches[outer[rings]] & (np.abs(np.log(w[outer[rings]] / h[outer[rings]])) <= ROUND_ASPECT)
    round_ = outer[rings][whole]
    centre2[crop[round_]] = 2 * x[round_] + w[round_]
    return out, centre2


def glyphs(ink: np.ndarray, ink_mask: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ink mosaic and its number's ink (0/1, `ink_components`) -> (model inputs (M, S, S) float32,
    has-ink flag per crop).

    The strokes keep their anti-aliased rim (the mask dilated by a pixel); everything
    else is dropped; the ink's box is scaled into INK_BOX, aspect kept, and centred.
    All crops are resampled by one bilinear remap of the mosaic."""
    n, rows, w = ink.shape
    has_ink = boxes[:, 1] > 0
    idx = np.flatnonzero(has_ink)
    if len(idx) == 0:
        return np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.float32), has_ink
    # Only the ink boxes are resampled, so the masking works on the window that holds all of
    # them (a third of a crop, typically), plus the rim and the bilinear neighbours, with a
    # blank row after each crop's window again; the result goes back into a mosaic of the
    # crops' size, so that the remap below reads exactly the coordinates it always has.
    wy0, wx0 = np.maximum(boxes[idx, ::2].min(axis=0) - 2, 0)
    wy1, wx1 = np.minimum(boxes[idx, 1::2].max(axis=0) + 2, (rows - 1, w))
    wrows, ww = wy1 - wy0 + 1, wx1 - wx0
    mask = np.zeros((n, wrows, ww), np.uint8)
    mask[:, :-1] = ink_mask[:, wy0:wy1, wx0:wx1]
    window = np.zeros((n, wrows, ww), np.uint8)
    window[:, :-1] = ink[:, wy0:wy1, wx0:wx1]
    strokes = cv2.multiply(window.reshape(-1, ww), cv2.dilate(mask.reshape(-1, ww), _RIM))  # mask is 0/1
    kept = np.zeros((n, rows, w), np.uint8)
    kept[:, wy0:wy1, wx0:wx1] = strokes.reshape(n, wrows, ww)[:, :-1]
    y0, y1, x0, x1 = boxes[idx].T
    gh, gw = y1 - y0, x1 - x0
    scale = INK_BOX / np.maximum(gh, gw)
    nh, nw = np.maximum(1, np.round(gh * scale)), np.maximum(1, np.round(gw * scale))
    oy, ox = (INPUT_SIZE - nh) // 2, (INPUT_SIZE - nw) // 2
    # Output pixel centre -> source coordinate inside the ink box (clamped: the box's edge
    # repeats, as in cv2.resize), then into the mosaic; outside the scaled box, a coordinate
    # off the mosaic, which reads as 0. (float32 maps: coordinates far down a mosaic are a
    # little coarser, so a crop's glyph may differ by a grey level or two from `normalize_cell`'s.)
    centres = np.arange(INPUT_SIZE) + 0.5
    sy = np.clip((centres - oy[:, None]) / scale[:, None] - 0.5, 0, (gh - 1)[:, None]) + (y0 + idx * rows)[:, None]
    sx = np.clip((centres - ox[:, None]) / scale[:, None] - 0.5, 0, (gw - 1)[:, None]) + x0[:, None]
    sy[(centres < oy[:, None]) | (centres >= (oy + nh)[:, None])] = _OFF
    sx[(centres < ox[:, None]) | (centres >= (ox + nw)[:, None])] = _OFF
    m, size = len(idx), INPUT_SIZE
    map_y = np.repeat(sy.astype(np.float32).reshape(-1, 1), size, axis=1)  # row coordinate: same along a row
    map_x = np.tile(sx.astype(np.float32), (1, size)).reshape(m * size, size)  # column coordinate: same down a column
    out = cv2.remap(kept.reshape(n * rows, w), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    out = out.reshape(m, size, size)
    peak = out.reshape(m, -1).max(axis=1)
    return out * (1.0 / np.maximum(peak, 1)).astype(np.float32)[:, None, None], has_ink


def ink_shapes(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs (M, S, S[, 1]) -> per input, its ink's width over height, and whether a clear
    column parts the ink within the middle (PAIR_GAP) of its width: as it parts two digits side by
    side, and not one letter ("A" read 14)."""
    if len(inputs) == 0:
        return np.zeros(0), np.zeros(0, bool)
    ink = inputs.reshape(len(inputs), INPUT_SIZE, INPUT_SIZE) > PAIR_INK
    cols, rows = ink.any(axis=1), ink.any(axis=2)
    at = np.arange(INPUT_SIZE)
    x0, x1 = cols.argmax(axis=1), INPUT_SIZE - 1 - cols[:, ::-1].argmax(axis=1)
    y0, y1 = rows.argmax(axis=1), INPUT_SIZE - 1 - rows[:, ::-1].argmax(axis=1)
    width = x1 - x0 + 1
    middle = (at >= (x0 + PAIR_GAP * width)[:, None]) & (at <= (x1 - PAIR_GAP * width)[:, None])
    return width / (y1 - y0 + 1), (middle & ~cols).any(axis=1)


def normalize_batch(cells: list[np.ndarray] | np.ndarray, text_height: float | None = None, *, reading: bool = False
                    ) -> tuple[np.ndarray, list[bool]]:
    """Normalise crops: a list (BGR or grey uint8, any sizes) or one (N, h, w) stack of grey
    crops, which is fastest (`segment.crop_cells` gives one), with the table's text height when
    known (segmentation's), and whether they are read rather than trained on (`reading`: a page's
    cell boxes, `ink_components`). Returns the (N_nonempty, S, S, 1) float32 inputs in crop order, and
    an is-empty flag per crop."""
    if isinstance(cells, np.ndarray) and cells.ndim == 3:
        inputs, has_ink, _ = normalize_stack(cells, text_height, reading)
        return inputs[..., None], (~has_ink).tolist()
    cells = [grey(c) for c in cells]
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, cell in enumerate(cells):
        by_shape[cell.shape[:2]].append(i)
    results: list[np.ndarray | None] = [None] * len(cells)
    for same_shape in by_shape.values():
        inputs, has_ink, _ = normalize_stack(np.stack([cells[i] for i in same_shape]), text_height, reading)
        for i, x in zip(np.asarray(same_shape)[has_ink], inputs):
            results[i] = x
    inputs = [r for r in results if r is not None]
    arr = np.stack(inputs)[..., None] if inputs else np.zeros((0, INPUT_SIZE, INPUT_SIZE, 1), np.float32)
    return arr, [r is None for r in results]


def normalize_table(cells: np.ndarray, text_height: float | None = None) -> tuple[np.ndarray, list[bool], list[bool]]:
    """`normalize_batch` on one (N, h, w) stack of a table's crops, with a third list: whether what
    each crop holds is odd for a number (cut short by an ellipsis or beside its ring's middle,
    `ink_components`; far less high than the table's other numbers, `normalize_stack`), to be
    flagged whatever the model reads."""
    inputs, has_ink, odd = normalize_stack(cells, text_height)
    return inputs[..., None], (~has_ink).tolist(), odd.tolist()


def normalize_stack(cells: np.ndarray, text_height: float | None = None, reading: bool = False
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, h, w) grey crops -> (model inputs (M, S, S) float32 of the crops with ink, has-ink flag (N,),
    odd flag (N,): `ink_components`)."""
    n, h, w = cells.shape
    if min(h, w) < MIN_CROP:
        return np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.float32), np.zeros(n, bool), np.zeros(n, bool)
    cells = shrink(cells, text_height)
    text_height = text_height and text_height * cells.shape[1] / h  # shrinking halves crops
    inputs, has_ink, odd, heights, _ = normalize_shrunk(cells, text_height, reading=reading)
    if text_height:
        inputs, has_ink, odd, heights = reread_on_line_grounds(cells, text_height, inputs, has_ink, odd, heights)
        # Far less high than the table's other numbers: one dash of an empty place's dashed ring
        # read as a 1, a number that lost a part (the text's marks' height may be rings').
        if np.count_nonzero(heights) >= SHORT_SAMPLE:
            odd = odd | ((heights > 0) & (heights < SHORT_INK * median(heights[heights > 0])))
    return inputs, has_ink, odd


def reread_on_line_grounds(cells: np.ndarray, text_height: float, inputs: np.ndarray, has_ink: np.ndarray,
                           odd: np.ndarray, heights: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A shrunk stack's inputs, has-ink and odd flags and ink heights, with the crops whose centre is
    not flat read once more on the ground of their text line where `line_grounds` finds one (`apart`
    from the crop's background by less where the first reading found nothing or something odd): a
    number on a ground of its own
    that most of the crop's centre is not (a ball inside a thick ring: the ring was taken for the
    background, and the ball, the number a hole in it, for ink, or only the holes of its 0s and 8s,
    which read as a 0 or a 2)."""
    h, w = cells.shape[1:]
    my, mx = int(h * BG_MARGIN), int(w * BG_MARGIN)
    centres = cells[:, my : h - my, mx : w - mx].reshape(len(cells), -1)
    doubtful = np.flatnonzero(np.ptp(centres, axis=1) >= MIN_CONTRAST)  # a flat empty cell has nothing to find
    # Where the first reading found nothing, or something odd, a ground nearer the background will
    # do (a white ball on a page of light grey, 38 apart); elsewhere the first reading stands unless
    # the ground is plainly another (a ball 39 apart that let the first reading keep only a 25's 5;
    # nearer, a neon number's glow, which is no ground).
    apart = np.where(has_ink[doubtful] & ~odd[doubtful], MIN_CONTRAST * 3 // 4, MIN_CONTRAST // 2 + 1)
    grounds = line_grounds(cells[doubtful], text_height, apart) if len(doubtful) else np.zeros(0)
    # Where nothing was found either way, closer in: a small tile's ground may end a few pixels
    # beyond its number (a framed "hot" 35 at 11 px, read as empty).
    retry = np.flatnonzero(np.isnan(grounds) & ~has_ink[doubtful])
    if len(retry):
        grounds[retry] = line_grounds(cells[doubtful[retry]], text_height, apart[retry], close=True)
    other = doubtful[~np.isnan(grounds)]
    if len(other) == 0:
        return inputs, has_ink, odd, heights
    found, found_ink, found_odd, found_heights, found_widths = normalize_shrunk(cells[other], text_height,
                                                                                grounds[~np.isnan(grounds)])
    # A ground that gives ink far higher than the text is the page around a tile, the tile taken for
    # ink (a framed tile's bands fell on its frame, and its number read as a hole in it, surely 23);
    # far wider, where the first reading found ink, the felt around a pill, the pill taken for ink
    # (the bands fell on its edges). (Where it found none, that reading stands: a crop with a pill
    # in it is not empty, and what is read in it is flagged.)
    wider = (found_widths > WIDER_INK * text_height) & has_ink[other]
    taller = (found_heights > TALLER_INK * text_height) | wider
    found, found_ink = found[~taller[found_ink]], found_ink & ~taller
    if not found_ink.any():
        return inputs, has_ink, odd, heights
    per_crop = dict(zip(np.flatnonzero(has_ink).tolist(), inputs)) | dict(zip(other[found_ink].tolist(), found))
    order = sorted(per_crop)
    has = np.zeros(len(cells), bool)
    has[order] = True
    odd, heights = odd.copy(), heights.copy()
    odd[other[found_ink]], heights[other[found_ink]] = found_odd[found_ink], found_heights[found_ink]
    return np.stack([per_crop[i] for i in order]), has, odd, heights


def normalize_shrunk(cells: np.ndarray, text_height: float | None, levels: np.ndarray | None = None,
                     reading: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`normalize_stack` on crops already shrunk (`text_height` in their pixels), on their own or the
    given background levels; with each crop's ink height and width (0: none) besides."""
    per_mosaic = max(1, MOSAIC_ROWS // (cells.shape[1] + 1))
    inputs, has_ink, odds, heights, widths = [], [], [], [], []
    for start in range(0, len(cells), per_mosaic):
        ink = ink_maps(cells[start : start + per_mosaic], None if levels is None else levels[start : start + per_mosaic])
        mask, boxes, odd = ink_components(ink, text_height, borders=levels is None, reading=reading)
        x, has = glyphs(ink, mask, boxes)
        inputs.append(x)
        has_ink.append(has)
        odds.append(odd)
        heights.append(np.where(has, boxes[:, 1] - boxes[:, 0], 0))
        widths.append(np.where(has, boxes[:, 3] - boxes[:, 2], 0))
    return tuple(np.concatenate(parts) for parts in (inputs, has_ink, odds, heights, widths))


def normalize_cell(cell: np.ndarray) -> np.ndarray | None:
    """One crop -> (S, S) float32 in [0, 1], or None when the cell is empty."""
    inputs, empty = normalize_batch([cell])
    return None if empty[0] else inputs[0, :, :, 0]
