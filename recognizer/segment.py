"""Table image -> grid of cell boxes. Pure functions: arrays in, arrays/dataclasses out.

How it works, and why:
1. Edge mask: a morphological gradient keeps strokes, lines and region borders whatever
   the polarity (dark on light, white on red/black/green) and leaves flat areas out.
2. Connected components of the mask; grid lines and frames span much of the table, the
   borders of cell backgrounds are loops around the text, specks are small: all dropped.
3. Rows are groups of glyph centres by y; within a row, digits closer than a fraction of
   the text height are joined into numbers; columns are groups of number centres by x
   over all rows, so left/centre/right alignment and mixed one- and two-digit numbers
   land in one column. Sparse rows and columns are kept when they line up with the table.
4. Missing rows/columns (entirely empty ones) are filled from the regular pitch; when an
   expected shape is given, a mismatch is an error, never a silent misalignment. Header
   rows/columns (`skip_rows`/`skip_cols`) are found first; columns come from the data rows
   alone, and a header label of several words or lines is merged into one header span.
5. Cell boxes run between neighbouring rows and columns: on the grid lines in the gap where
   there are any, else at the midline; what a cell holds (or that it is empty) is decided
   later, per cell, by the normaliser. Overlapping spans mean no grid: refused, never read.
Scale: with the shape given, rows 32 px or taller (high-DPI screenshots) are located on a
copy halved by 2x2 block averaging (repeatedly, to rows of 16-32 px); the full-size image decides
whenever that copy leaves a doubt, and copies halved fewer times where the full size leaves one
too. Without a shape, pictures over 4 MP are located on a copy halved to that size first, with
the same doubts, and large text on a halved copy too. A header found on a shrunk copy reaches as
far as its glyphs do at full size. Rows under 20 px are located at 2x instead,
in pictures of at most 4 MP. Memory: every pass is linear in the pixels; the search for
outlines around glyphs compares boxes in chunks, and more marks than a table can hold
(a photo's texture, noise) are refused before it.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from recognizer.errors import NotATableError, SegmentationError
from recognizer.imageops import components, halve, median
from recognizer.settings import TableShape
from recognizer.table import Box

EDGE_KERNEL = np.ones((3, 3), np.uint8)
SMALL_CELL = 20  # rows less than this many pixels high are segmented at 2x ...
MAX_ROWS_AT_2X = 100  # ... in images of at most this many such rows
MAX_PIXELS_AT_2X = 4_000_000  # ... and pixels
SHRUNK_ROW = 16  # rows expected at least twice this high are segmented on a copy halved (repeatedly) ...
MIN_SHRUNK_TEXT = 8  # ... unless the text would then be less than this many pixels high
MISSED_AT_FULL_SIZE = 1.5  # without a shape, a halved copy with this many times the marks is taken
SHORT_ROW = 0.75  # ... or a data row's text there is less high than this * the text's
HEADER_LINES = 4  # a header row higher than this many text heights holds more than a wrapped label
SHRINK_PIXELS = 4_000_000  # without a shape, larger pictures are located on a copy halved to this size
MIN_TEXT_CONTRAST = 30  # edge strengths below this are background noise / JPEG ringing
MAX_TEXT_CONTRAST = 120  # cap on the Otsu threshold so faint anti-aliased text survives
FAINT_EDGE = 0.5  # one-column tables: marks whose edges reach this share of the threshold, ...
FAINT_PIXELS = 0.5  # ... fewer than this share of whose pixels pass it, are text too
HEADER_COLUMNS = 0.75  # faint marks over this share of the columns, a row above the rest: a header missed
STRUCTURE_SPAN = 0.5  # components spanning this fraction of the table are lines / frames
STRUCTURE_ELONGATION = 4.0  # ... when also this elongated
EDGE_RULE = 3  # a line this close to a side of the picture (pixels), along half of it, is the table's own border
LINE_GAP = 4  # gaps up to this many pixels along a line are bridged: a dashed or dotted border (CSS draws 2px
#               gaps per px of border, the edges' mask narrows them by 2) is one line
LINE_BRIDGE = np.ones((1, LINE_GAP + 1), np.uint8)
LINE_INK = 0.6  # a line is looked along only where its ink covers this share of the picture's length
LINE_SHARE = 0.8  # a mark this much of whose pixels lie on a line across STRUCTURE_SPAN of the table is a piece of it
GLYPH_ASPECT = (0.15, 1.1)  # width/height range of one digit (a bare '1' .. a wide '0')
SPECK_HEIGHT = 0.6  # digits share one height: components shorter than this * median are noise
TALL_HEIGHT = 1.6  # ... taller ones are structure (gap pieces, cell edges)
CONTAINED_HEIGHT = 0.8  # a box holding a box less than this high is an outline around it ...
OUTLINE_HEIGHT = 1.15  # ... and higher than this * the marks that hold none (a glyph around its hole is not)
FEW_FOR_HOLES = 16  # where fewer marks hold none, those measured are also held by none (not holes)
MAX_NUMBER_WIDTH = 2.5  # a two-digit number is at most this * its height wide
FEW_WIDE = 10  # a column with at most 1/this of its numbers wider is a column of numbers, not of words
DIGIT_GAP = 0.45  # digits closer than this * text height belong to one number
LINE_STEP = 0.5  # number centres further apart than this * text height start a new row ...
COLUMN_STEP = 0.6  # ... or a new column (left/right alignment moves centres by < 0.4)
MIN_SUPPORT = 0.5  # rows/columns with fewer numbers than this * the median are sparse
SPLIT_GAP = 0.35  # two narrow spans closer than this * the columns' gap, ...
SPLIT_WIDTH = 1.15  # ... together no wider than this * a column, are one column split in two
APART_ROWS = 0.75  # two columns that never share a row, and fill this share of the rows together, are one ...
APART_MIN_ROWS = 6  # ... where they hold numbers in at least this many rows (in four, it may be chance)
SLIVER_WIDTH = 0.3  # a span narrower than this * the columns', ...
SLIVER_GAP = 0.75  # ... less than this * the columns' gap from a neighbour, is a frame's side ...
SLIVER_REACH = 2.5  # ... if also less than this many text heights from it (a tile's frame is 1.3-1.6 away)
HEADER_SLACK = 2  # pixels a first row's or column's crop keeps beyond its bound, towards the header
NARROW_SLACK = 3  # ... and a strip's narrow cell's crop beyond its bounds (its neighbours' edges are the normaliser's)
BG_VOTES = 200  # about this many pixels of a crop vote for its background
FEW_MARKS = 10  # a tenth of the expected cells or fewer: not the table yet, most likely
PITCH_TOLERANCE = 0.25  # a gap within this of k pitches holds k-1 empty rows/columns ...
UNLIKE_WIDTHS = 2.5  # ... unless a span beside it is more than this many times as wide as the spans usually are
MIN_TEXT_HEIGHT = 5  # pixels; smaller "text" cannot be read
LINE_COVER = 0.6  # a rule covers this share of the table's text area along its length
RULE_REACH = 0.5  # a strip's cell rules are looked for this many text heights above and below its text ...
MIN_RULED_CELL = 0.5  # ... and part it into cells at least this many text heights wide (no double borders) ...
RULE_CONTRAST = 8  # ... where a pixel column differs by this much from those two pixels to either side
HEADER_GAP = 0.6  # a span this much closer than the data's usual gap to the header's, and ...
LABEL_GAP_RATIO = 1.5  # ... and this much closer to it than to the span after
LINE_GAP_RATIO = 2.5  # ... (rows: a label's second line, under a word whose descenders narrow the gap)
LABEL_WIDTH = 0.8  # ... and narrower than this * the data's spans (fewer digits) is a label's part
WORD_WIDTH = 1.6  # ... or, whatever the gaps, wider than this * the data's spans (a word) is a label's part
AT_THE_SIDE = 0.1  # ink this many text heights or less from a run of ink run into a cell joins it (a word's letters)
RUN_REACH = 2.0  # ... whose extent left of the cell is looked for this many text heights out
TWO_DIGITS_WIDE = 1.0  # ink this many text heights wide holds two digits (one is at most 0.75)
TWO_DIGITS = 2.0  # a span up to this * the text height wide holds numbers of two digits at most, no word
WORD_SPACE = 0.7  # ... closer than this * text height (a word space, a line gap) belongs to it
OFF_LINE = 0.4  # ... or, narrower, its marks this many text heights above or below the rows' middles (a wrapped label's)
MIN_RUN = 3  # steps at one pitch that make a run of data rows, not a header's lines
UNEVEN_PITCH = (1.3, 1.75)  # a strip's numbers this many pitches apart (not 1, not 2) ...
UNEVEN_SPACE = 1.3  # ... with this many times the usual space between their ink: an empty cell drawn narrower
END_TOLERANCE = 0.3  # empty end cells are added when the margins differ by whole pitches, give or take this
MAX_MARKS = 100_000  # a 200 x 200 table of two-digit numbers has 80,000 glyphs; more marks are no table
CONTAINER_CHUNK = 1024  # boxes compared at a time when looking for outlines around glyphs
HIDDEN_SHARE = 0.2  # glyph-shaped marks under SPECK_HEIGHT this many times the text's: numbers inside rings ...
RING_HEIGHT = 4.0  # ... as are marks holding nothing, from TALL_HEIGHT to this * the text high, ...
RING_ROUND = np.log(1.33)  # ... and about as wide as high (up to this far from 1:1, in log): rings joined to theirs
HIDDEN_INSIDE, HIDDEN_FUSED = "inside", "fused"  # `marks`: how numbers may be hidden in rings
TIGHT_BAND = 0.12  # an empty band this wide (* text height) parts digit gaps from cell gaps


@dataclass(frozen=True)
class Grid:
    """Cell boundaries: row i spans rows[i] = (y0, y1), column j spans cols[j] = (x0, x1)."""

    rows: tuple[tuple[int, int], ...]
    cols: tuple[tuple[int, int], ...]
    text_height: float
    headed: tuple[bool, bool] = (False, False)  # header rows above the first row, header columns left of the first column

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.cols)

    def box(self, r: int, c: int) -> Box:
        (y0, y1), (x0, x1) = self.rows[r], self.cols[c]
        return Box(x0, y0, x1 - x0, y1 - y0)


def text_mask(image: np.ndarray, faint: bool = False) -> np.ndarray:
    """uint8 0/1 mask of edges: text strokes, lines and the borders of cell backgrounds.

    A morphological gradient is polarity- and colour-blind (dark on light, white on red,
    black or green), while flat areas (cell backgrounds, stripes, gaps) stay out of it, so
    each glyph is a small component and the borders form long lines, frames or one loop
    per cell, all of which `text_boxes` drops.
    """
    gradient = cv2.morphologyEx(image, cv2.MORPH_GRADIENT, EDGE_KERNEL)
    if gradient.ndim == 3:  # cv2 on split planes: numpy's max(axis=2) is much slower here
        b, g, r = cv2.split(gradient)
        gradient = cv2.max(cv2.max(b, g), r)
    otsu, _ = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    threshold = float(np.clip(otsu, MIN_TEXT_CONTRAST, MAX_TEXT_CONTRAST))
    mask = cv2.threshold(gradient, threshold, 1, cv2.THRESH_BINARY)[1]
    if faint:
        # Marks fainter than the threshold, on their own or with few pixels over it: a red number
        # among white ones on a dark ground has a third of their edge (in luminance), and on a JPEG
        # only specks of it pass, while a strong mark's halo is a rim around a strong core.
        weak = cv2.threshold(gradient, max(MIN_TEXT_CONTRAST, FAINT_EDGE * threshold), 1, cv2.THRESH_BINARY)[1]
        count, labels, stats = components(weak)
        strong = np.bincount(labels[mask.view(bool)], minlength=count)
        faint_marks = strong < FAINT_PIXELS * stats[:, cv2.CC_STAT_AREA]
        faint_marks[0] = False
        mask |= faint_marks[labels].view(np.uint8)
    return mask


def text_boxes(mask: np.ndarray) -> np.ndarray:
    """(N, 4) int array of x, y, w, h of components that look like glyphs, not structure or specks."""
    return marks(mask)[0]


def marks(mask: np.ndarray) -> tuple[np.ndarray, str | None]:
    """`text_boxes`, and whether numbers may be hidden in rings (SVG balls, chips with a rim) at
    this scale, where the edge mask joins a ring a pixel or two off its number to it: HIDDEN_INSIDE,
    many glyph-shaped marks are far smaller than the "text" (most rings joined theirs and were taken
    for the text; the numbers that parted, and any header text, are dropped as specks), or
    HIDDEN_FUSED, many marks as high as a cell and as wide, holding nothing, are left out as too
    high (the numbers that parted are the text; the rest went with their rings)."""
    H, W = mask.shape
    mask = without_edge_rules(mask)
    _, labels, stats = components(mask)
    boxes = stats[1:, :4]
    if len(boxes) == 0:
        return boxes, None
    x, y, w, h = boxes.T
    wide = (w >= STRUCTURE_SPAN * W) & (w > STRUCTURE_ELONGATION * h)
    tall = (h >= STRUCTURE_SPAN * H) & (h > STRUCTURE_ELONGATION * w)
    frame = (w >= STRUCTURE_SPAN * W) & (h >= STRUCTURE_SPAN * H)
    at_edge = (x == 0) | (y == 0) | (x + w == W) | (y + h == H)
    sliver = at_edge & ((w < GLYPH_ASPECT[0] * h) | (h < GLYPH_ASPECT[0] * w))  # cut-off border
    dashes = dashed_lines(mask, labels, stats, wide | tall | frame)
    raw = boxes[~dashes]
    boxes = boxes[~(wide | tall | frame | sliver | dashes | scroll_arrows(boxes, wide & ~frame, H))]
    if len(boxes) > MAX_MARKS:
        raise NotATableError(f"no table found: the image has {len(boxes):,} separate marks, far more than a table "
                                "of numbers (is it a photo or noise?)")
    outer, held = containers(boxes)
    holds = outer
    if (~outer).any():
        # Once strokes are thick, a bold glyph's hole has an edge of its own, inside the glyph: the
        # glyph holds it as an outline holds a number, but is no higher than the marks that hold
        # nothing (text, and what outlines hold). In a strip of a few bold numbers ("12 6 29 8")
        # the holes are as many as the rest, and are left out of that measure; in a table the
        # marks without holes outvote them (and a holed glyph dropped there loses no line).
        free = ~outer & ~held
        few = np.count_nonzero(~outer) < FEW_FOR_HOLES and free.any()
        outer = outer & (boxes[:, 3] > OUTLINE_HEIGHT * median(boxes[free if few else ~outer, 3]))
    boxes, holds = boxes[~outer], holds[~outer]
    if len(boxes) == 0:
        return boxes, None
    # Text height from glyph-shaped components only: pieces of a gap network between cell
    # backgrounds are elongated and would drag the median.
    w, h = boxes[:, 2], boxes[:, 3]
    glyph_like = glyph_shaped(w, h)
    if not glyph_like.any():
        return boxes[:0], None
    med_h = median(h[glyph_like])
    keep = (h >= SPECK_HEIGHT * med_h) & (h <= TALL_HEIGHT * med_h) & (w <= MAX_NUMBER_WIDTH * med_h)
    rings = ~holds & (h > TALL_HEIGHT * med_h) & (h <= RING_HEIGHT * med_h) & (abs(np.log(w / h)) <= RING_ROUND)
    boxes = boxes[keep]
    if len(boxes) == 0:
        return boxes, None
    small = glyph_shaped(raw[:, 2], raw[:, 3]) & (raw[:, 3] < SPECK_HEIGHT * median(boxes[:, 3]))
    if small.sum() >= HIDDEN_SHARE * len(boxes):
        return boxes, HIDDEN_INSIDE
    return boxes, HIDDEN_FUSED if rings.sum() >= HIDDEN_SHARE * len(boxes) else None


def without_edge_rules(mask: np.ndarray) -> np.ndarray:
    """The mask without the rules along the picture's sides (within EDGE_RULE pixels of a side, along
    STRUCTURE_SPAN of it): a table's own border, which labels set tight against it join (mini.css's
    letters beside the rows, at the left border), and would go with it as structure, the header
    count then taking a column of data. The rest of a ruled grid is structure as before."""
    H, W = mask.shape
    side = min(EDGE_RULE, H // 4, W // 4)
    if side < 1:
        return mask
    strips = ((np.s_[:, :side], 0, H), (np.s_[:, W - side:], 0, H), (np.s_[:side, :], 1, W), (np.s_[H - side:, :], 1, W))
    rules = [np.count_nonzero(mask[where], axis=axis) >= STRUCTURE_SPAN * length for where, axis, length in strips]
    if not any(rule.any() for rule in rules):
        return mask
    out = mask.copy()
    for (where, axis, _), rule in zip(strips, rules):
        if axis == 0:
            out[where][:, rule] = 0  # a basic slice is a view: this clears `out`'s columns
        else:
            out[where][rule] = 0
    return out


def dashed_lines(mask: np.ndarray, labels: np.ndarray, stats: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """Per mark (`stats[1:]`), whether it is a piece of a dashed or dotted line across the table: the
    dashes of a dashed border are marks of their own, a '1' each, and a dashed grid falls into pieces,
    none of them long enough to be `structure`. A mark at least LINE_SHARE of whose pixels lie on a line
    of what structure leaves (`line_pixels`) is one."""
    on = line_pixels(mask, labels, np.r_[False, ~structure])
    if not on.any():
        return np.zeros(len(stats) - 1, bool)
    return np.bincount(labels[on], minlength=len(stats))[1:] >= LINE_SHARE * stats[1:, cv2.CC_STAT_AREA]


def line_pixels(mask: np.ndarray, labels: np.ndarray | None = None, kept: np.ndarray | None = None) -> np.ndarray:
    """bool mask of `mask`'s pixels on straight lines, down or across, at least STRUCTURE_SPAN of the
    picture long, solid, dashed or dotted (gaps up to LINE_GAP bridged); with `labels`, of the marks whose
    label is `kept` only. Runs are looked for only along the columns (rows) with that much ink: a long
    morphological opening would cost more than segmentation."""
    on = np.zeros(mask.shape, bool)
    for axis in (0, 1):
        length = mask.shape[axis]
        span = max(2, int(STRUCTURE_SPAN * length))
        # The edges' mask of a dashed line covers most of it (CSS dashes: 3 px of every 5 per px of border,
        # each widened by 2 px), a text row's or column's at most half. Bridging acts along each line
        # alone: only those with more ink than LINE_INK of the picture's length are looked along.
        inked = cv2.reduce(mask, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        lines = np.flatnonzero(inked >= LINE_INK * length)
        if len(lines) == 0:
            continue
        along = mask[:, lines].T if axis == 0 else mask[lines]  # one line per row
        if labels is not None and not kept[1:].all():  # less the marks not kept (solid lines, frames: dropped anyway)
            along = along * kept[labels[:, lines].T if axis == 0 else labels[lines]]
            still = np.count_nonzero(along, axis=1) >= LINE_INK * length
            lines, along = lines[still], along[still]
            if len(lines) == 0:
                continue
        bridged = cv2.morphologyEx(np.ascontiguousarray(along, np.uint8), cv2.MORPH_CLOSE, LINE_BRIDGE)
        # A line's run of `span` or more (at least half the line: its only one) holds a window of `span` in a
        # row, found by a difference of running counts; it reaches from the gap before to the gap after.
        count = np.cumsum(bridged, axis=1, dtype=np.int32)
        window = count[:, span - 1:] - np.pad(count, ((0, 0), (1, 0)))[:, :length - span + 1]
        held = window.argmax(axis=1)
        keep = window[np.arange(len(lines)), held] == span
        if not keep.any():
            continue
        place, at, gap = np.arange(length), held[keep][:, None], bridged[keep] == 0
        start = np.where(gap & (place < at), place, -1).max(axis=1, keepdims=True) + 1
        end = np.where(gap & (place >= at + span), place, length).min(axis=1, keepdims=True)
        lines, covered = lines[keep], (place >= start) & (place < end) & along[keep].view(bool)
        if axis == 0:
            on[:, lines] |= covered.T
        else:
            on[lines] |= covered
    return on


def scroll_arrows(boxes: np.ndarray, wide: np.ndarray, height: int) -> np.ndarray:
    """Per box, whether it sits at an end of a `wide` bar at the bottom of the picture (`height`), in line
    with it and no further from it than the bar is high (and a few pixels): a scroll bar's arrow buttons
    beside its thumb, under a table too wide for its box, which made a row of marks. Text is never in line
    with a rule; the bar lies at the bottom, for a piece of a dashed grid is as wide and as high as a row,
    the row's numbers beside it, and is no frame (the outline of a block of cells, their labels beside it)."""
    arrows = np.zeros(len(boxes), bool)
    x, y, w, h = boxes.T
    cy = y + h / 2
    bars = wide & (boxes[:, 3] >= 3) & (boxes[:, 1] + 2 * boxes[:, 3] + 4 >= height)
    for bx, by, bw, bh in boxes[bars]:
        reach = bh + 4
        level = (cy >= by) & (cy <= by + bh) & (h <= 2 * bh)
        before = (x + w <= bx) & (x + w >= bx - reach)
        after = (x >= bx + bw) & (x <= bx + bw + reach)
        arrows |= level & (before | after)
    return arrows


def within(centres: np.ndarray, spans) -> np.ndarray:
    """(N,) centres, (S, 2) spans (start, end) -> (N, S) whether each centre lies inside each span."""
    bounds_ = np.asarray(spans, float).reshape(-1, 2)
    return (bounds_[:, 0] <= centres[:, None]) & (centres[:, None] <= bounds_[:, 1])


def glyph_shaped(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Boxes of a digit's size and proportions (at least MIN_TEXT_HEIGHT high)."""
    return (h >= MIN_TEXT_HEIGHT) & (w >= GLYPH_ASPECT[0] * h) & (w <= GLYPH_ASPECT[1] * h)


def same_rows_and_more(finer: Layout, coarser: Layout, shape: TableShape, after: bool = False) -> bool:
    """Whether `finer` holds the rows and columns of `coarser`, each of those once, plus at most the
    header's before them (a header `coarser` missed) and, `after`, any after them (a last row whose
    numbers all went with their rings): numbers seen apart from their rings lie in the rings' rows
    and columns. A span of `coarser` far wider than a number may hold several of `finer`'s: rings a
    gap narrower than a digit gap apart, taken for one number's digits."""
    for fine, coarse, skip in ((finer.row_spans, coarser.row_spans, shape.skip_rows),
                               (finer.col_spans, coarser.col_spans, shape.skip_cols)):
        bounds_ = np.asarray(coarse, float).reshape(-1, 2)
        inside = within(np.array([(a + b) / 2 for a, b in fine]), bounds_)  # (fine, coarse)
        extra = int(np.argmax(inside.any(axis=1))) if inside.any() else len(fine)  # before the first coarse span
        held = inside[extra:]
        if after and held.any():
            held = held[: len(held) - int(np.argmax(held.any(axis=1)[::-1]))]  # less those after the last
        if not 0 <= extra <= skip or not held.any(axis=1).all() or not held.any(axis=0).all():
            return False
        wide = bounds_[:, 1] - bounds_[:, 0] > MAX_NUMBER_WIDTH * coarser.text_height
        if ((held.sum(axis=0) > 1) & ~wide).any():
            return False
    return True


def header_parted(finer: Layout, coarser: Layout, skip_cols: int) -> bool:
    """Whether `finer` is `coarser` with data columns more, parted from its header columns: the same
    rows, the same data columns after the new ones, and those inside the header, each a data pitch
    before the next (not the tens of a label "10" parted from its units). One more: a label's number
    parted from the first data column's; several: a tight table's first columns run into its labels."""
    data = coarser.col_spans[skip_cols:]
    extra = len(finer.col_spans) - len(coarser.col_spans)
    if len(finer.row_spans) != len(coarser.row_spans) or extra < 1 or len(data) < 2:
        return False
    centres = np.array([(a + b) / 2 for a, b in finer.col_spans[skip_cols:]])
    pitch = median(np.diff(centres[extra:]))
    return (finer.col_spans[skip_cols + extra - 1][1] <= coarser.col_spans[skip_cols - 1][1]
            and all(abs(step - pitch) <= PITCH_TOLERANCE * pitch for step in np.diff(centres[:extra + 1]))
            and all(a <= c <= b for (a, b), c in zip(data, centres[extra:])))


def short_rows(layout: Layout, skip_rows: int) -> bool:
    """Whether a data row's text is far less high than the text: pieces of a double rule between
    rows, a few pixels high on a halved JPEG, taken for a row (and the first row merged into the
    header to make the count)."""
    return any(b - a < SHORT_ROW * layout.text_height for a, b in layout.row_spans[skip_rows:])


def stripes_taken_for_rows(layout: Layout, skip_rows: int) -> bool:
    """Whether a layout's rows are pieces of structure: a data row far less high than the text
    (`short_rows`), or a header row higher than HEADER_LINES lines of it (real rows merged into it)."""
    return short_rows(layout, skip_rows) or any(
        b - a > HEADER_LINES * layout.text_height for a, b in layout.row_spans[:skip_rows])


def rows_kept(finer: Layout, coarser: Layout) -> bool:
    """Whether `finer` has all of `coarser`'s rows (each of its centres in one), and more."""
    centres = np.array([(a + b) / 2 for a, b in finer.row_spans])
    return len(finer.row_spans) > len(coarser.row_spans) and all(
        ((a <= centres) & (centres <= b)).sum() == 1 for a, b in coarser.row_spans)


def containers(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes with a smaller box's centre inside: the outline of a cell background around its
    number, or a bold glyph around its hole's edge (a digit's holes hold no other component);
    and the boxes so held.

    Boxes are taken in order of their left edge, CONTAINER_CHUNK at a time, against only the
    centres that lie within the chunk's horizontal reach: memory stays at CONTAINER_CHUNK^2
    comparisons whatever the number of boxes."""
    x, y, w, h = (boxes[:, i].astype(np.int64) for i in range(4))
    cx2, cy2 = 2 * x + w, 2 * y + h  # doubled centres: integer arithmetic, exact
    by_centre = np.argsort(cx2, kind="stable")
    sorted_cx2 = cx2[by_centre]
    out, held = np.zeros(len(boxes), bool), np.zeros(len(boxes), bool)
    by_left = np.argsort(x, kind="stable")
    for start in range(0, len(boxes), CONTAINER_CHUNK):
        outer = by_left[start : start + CONTAINER_CHUNK]
        lo = np.searchsorted(sorted_cx2, 2 * x[outer].min(), "right")
        hi = np.searchsorted(sorted_cx2, 2 * (x[outer] + w[outer]).max(), "left")
        X, Y, W, H = (a[outer, None] for a in (x, y, w, h))
        for inner_start in range(lo, hi, CONTAINER_CHUNK):
            inner = by_centre[inner_start : min(hi, inner_start + CONTAINER_CHUNK)]
            icx2, icy2, ih = cx2[inner][None, :], cy2[inner][None, :], h[inner][None, :]
            inside = (2 * X < icx2) & (icx2 < 2 * (X + W)) & (2 * Y < icy2) & (icy2 < 2 * (Y + H)) & (ih < CONTAINED_HEIGHT * H)
            out[outer] |= inside.any(axis=1)
            held[inner] |= inside.any(axis=0)
    return out, held


def group_spans(boxes: np.ndarray, axis: int, max_step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group (N, 4) x, y, w, h boxes by centre along `axis` (0: x, 1: y): a new group where
    consecutive centres are more than max_step apart. Returns the group of each box, the size
    of each group and each group's (start, end) span along the axis, groups in centre order."""
    start, size = boxes[:, axis], boxes[:, axis + 2]
    centres = start + size / 2
    order = np.argsort(centres, kind="stable")
    new = np.ones(len(order), bool)
    new[1:] = np.diff(centres[order]) > max_step
    firsts = np.flatnonzero(new)
    group_of = np.empty(len(order), np.int64)
    group_of[order] = np.cumsum(new) - 1
    lo = np.minimum.reduceat(start[order], firsts)
    hi = np.maximum.reduceat((start + size)[order], firsts)
    return group_of, np.diff(np.append(firsts, len(order))), np.stack([lo, hi], axis=1)


def text_lines(boxes: np.ndarray, text_h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`group_spans` by y, each line's span that of its marks no thinner than a bare 1 where it has
    any: a frame's side beside a tile (2 px wide, half as high again as the text) stretched the
    first data row up to a header line, and that row was taken for the header's second line."""
    line_of, sizes, spans = group_spans(boxes, 1, LINE_STEP * text_h)
    thin = boxes[:, 2] < GLYPH_ASPECT[0] * boxes[:, 3]
    if thin.any():
        members, has = member_spans(boxes, line_of, ~thin, len(sizes), 1)
        spans = np.where(has[:, None], members, spans)
    return line_of, sizes, spans


def member_spans(boxes: np.ndarray, group_of: np.ndarray, members: np.ndarray, groups: int, axis: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Each group's (start, end) span along `axis` over its `members` boxes only, and whether it has any."""
    lo, hi = np.full(groups, np.iinfo(np.int64).max), np.full(groups, np.iinfo(np.int64).min)
    np.minimum.at(lo, group_of[members], boxes[members, axis])
    np.maximum.at(hi, group_of[members], boxes[members, axis] + boxes[members, axis + 2])
    return np.stack([lo, hi], axis=1), np.bincount(group_of[members], minlength=groups) > 0


def number_columns(numbers: np.ndarray, text_h: float, skip_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`group_spans` by x; after header columns, a column a few of whose numbers (a tenth at most)
    are wider than two digits can be has the span of the others: in a tight table a label's number
    ("Round 14") runs into the first data column's in a row or two, that column's span reached back
    into the labels, and, far wider than the others, it was taken for a word of the header (every
    value a column over). (Where many are, numbers run together all over a tight table: as before.)"""
    column_of, sizes, spans = group_spans(numbers, 0, COLUMN_STEP * text_h)
    wide = numbers[:, 2] > MAX_NUMBER_WIDTH * text_h
    if not skip_cols or not wide.any():
        return column_of, sizes, spans
    few = np.bincount(column_of[wide], minlength=len(sizes)) * FEW_WIDE <= sizes
    narrow, has = member_spans(numbers, column_of, ~wide, len(sizes), 0)
    return column_of, sizes, np.where((few & has)[:, None], narrow, spans)


def well_supported(sizes: np.ndarray) -> np.ndarray:
    """Groups with at least MIN_SUPPORT * the median number of members."""
    return sizes >= MIN_SUPPORT * median(sizes)


def kept_spans(
    boxes: np.ndarray, group_of: np.ndarray, strong: np.ndarray, spans_: np.ndarray, other_axis: int, lined_up: np.ndarray
) -> list[tuple[int, int]]:
    """Sorted spans of the strong groups, and of the sparse ones with a member centred inside
    one of the `lined_up` spans along the other axis and shaped as a number at its own height (a
    framed tile's bottom edge, 37 px wide and 11 high under a 24, is none: it made a row; nor is a
    frame's side, 2 px wide and 34 high, beside a tile: it made a column)."""
    if not strong.all() and len(lined_up):
        centres = boxes[:, other_axis] + boxes[:, other_axis + 2] / 2
        hits = within(centres, lined_up).any(axis=1)
        hits &= (boxes[:, 2] <= MAX_NUMBER_WIDTH * boxes[:, 3]) & (boxes[:, 2] >= GLYPH_ASPECT[0] * boxes[:, 3])
        strong = strong | (np.bincount(group_of[hits], minlength=len(strong)) > 0)
    return sorted((int(a), int(b)) for a, b in spans_[strong])


def merge_numbers(boxes: np.ndarray, line_of: np.ndarray, max_gap: float) -> np.ndarray:
    """Join digit boxes into numbers: same line, and horizontally closer than max_gap to the
    number so far. (N, 4) boxes + line index per box -> (M, 4) number boxes, vectorised."""
    order = np.lexsort((boxes[:, 0], line_of))
    b, line = boxes[order], line_of[order]
    x, y, w, h = b.T
    # Right edge of the number so far: a running max that restarts on each line (lines are
    # offset far apart so one running max serves all of them).
    offset = line.astype(np.int64) * (int((x + w).max()) + int(max_gap) + 2)
    right = np.maximum.accumulate(x + w + offset)
    starts = np.ones(len(b), bool)
    starts[1:] = (line[1:] != line[:-1]) | (x[1:] + offset[1:] - right[:-1] >= max_gap)
    first = np.flatnonzero(starts)
    x0, y0 = np.minimum.reduceat(x, first), np.minimum.reduceat(y, first)
    x1, y1 = np.maximum.reduceat(x + w, first), np.maximum.reduceat(y + h, first)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


def fill_missing(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Insert spans for entirely empty rows/columns where a gap is a whole multiple of the pitch, between
    spans no wider than the spans usually are: a row label many times wider than the numbers after
    it is a header, and the gap after it no empty column. (A 1 beside a 14 is narrow, and a number.)"""
    if len(spans) < 3:
        return spans
    centres = [(a + b) / 2 for a, b in spans]
    steps = [c1 - c0 for c0, c1 in zip(centres, centres[1:])]  # plain floats: a few dozen of them
    pitch = median(np.array(steps))
    usual = median(np.array([b - a for a, b in spans]))
    out = [spans[0]]
    for (a, b), step in zip(spans[1:], steps):
        k = round(step / pitch)
        pa, pb = out[-1]
        if (k >= 2 and abs(step - k * pitch) <= PITCH_TOLERANCE * pitch
                and max(pb - pa, b - a) <= UNLIKE_WIDTHS * usual):
            half = (pb - pa) / 2
            for i in range(1, k):
                c = (pa + pb) / 2 + i * step / k
                out.append((int(round(c - half)), int(round(c + half))))
        out.append((a, b))
    return out


def bounds(spans: list[tuple[int, int]], limit: int, fallback_gap: float,
           lines: np.ndarray | None = None) -> tuple[tuple[int, int], ...]:
    """Cell boundaries between neighbouring spans: on the grid lines found in the gap (midway
    between a cell's right border and the next one's left border), else at the gap's midline;
    outer ones on the nearest line outside, else half a gap out. Text left- or right-aligned in
    wide ruled cells sits far from the midline; the lines are where the cells really end."""
    lines = np.empty(0, np.int64) if lines is None else lines
    gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
    half = (median(np.array(gaps)) if gaps else fallback_gap) / 2

    def cut(a: float, b: float) -> int:
        inside = lines[(lines > a) & (lines < b)]
        return int(round((inside.min() + inside.max()) / 2)) if len(inside) else int(round((a + b) / 2))

    before = lines[(lines < spans[0][0]) & (lines >= spans[0][0] - 2 * half - 1)]
    after = lines[(lines > spans[-1][1]) & (lines <= spans[-1][1] + 2 * half + 1)]
    cuts = [int(before.max()) if len(before) else max(0, int(spans[0][0] - half))]
    cuts += [cut(spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)]
    cuts.append(int(after.min()) + 1 if len(after) else min(limit, int(spans[-1][1] + half + 1)))
    return tuple((cuts[i], cuts[i + 1]) for i in range(len(spans)))


def grid_lines(image: np.ndarray, row_span: tuple[int, int], col_span: tuple[int, int],
               text_h: float) -> tuple[np.ndarray, np.ndarray]:
    """x positions of vertical and y positions of horizontal rules (grid lines, cell borders,
    stripe edges) across the table's text area: pixel columns (rows) whose edge mask is set
    over most of the area's height (width), in runs at least a text height long. (The edges of a
    row of striped chips cover most of a pixel row too, in short pieces: no rule.)"""
    mask = text_mask(image)
    (y0, y1), (x0, x1) = row_span, col_span
    run = max(3, round(text_h))
    along_x = cv2.morphologyEx(mask[:, x0:x1], cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    along_y = cv2.morphologyEx(mask[y0:y1], cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    vertical = np.flatnonzero(along_y.sum(axis=0) >= LINE_COVER * (y1 - y0))
    horizontal = np.flatnonzero(along_x.sum(axis=1) >= LINE_COVER * (x1 - x0))
    return vertical, horizontal


class Layout(NamedTuple):
    """Where the text of a table lies: row spans and column spans (of the text, not yet the cells)."""

    row_spans: list[tuple[int, int]]
    col_spans: list[tuple[int, int]]
    text_height: float
    hidden_text: str | None = None  # `marks`: how numbers may be hidden in rings, if they may
    mark_count: int = 0  # the text marks found
    filled: tuple[int, int] = (0, 0)  # rows, columns added at the data's ends (`ends_filled`): empty cells nothing marks


def locate(image: np.ndarray, shape: TableShape | None = None, digit_gap: float = DIGIT_GAP,
           faint: bool = False) -> Layout:
    """The layout of the table's text. With header rows/columns in `shape`, the columns are found
    from the data rows alone and the rows from the data columns alone, so that words above the
    columns or labels beside the rows never make columns or rows of their own, and header lines
    or columns beyond what `shape` expects are merged into the header."""
    shape = shape or TableShape()
    boxes, hidden = marks(text_mask(image, faint))
    if len(boxes) == 0:
        raise NotATableError("no table found: the image has no text-like marks (is it blank or not a table?)")
    text_h = median(boxes[:, 3])
    line_of, line_sizes, line_spans = text_lines(boxes, text_h)
    numbers = merge_numbers(boxes, line_of, digit_gap * text_h)
    _, column_sizes, column_spans = group_spans(numbers, 0, COLUMN_STEP * text_h)
    # A sparse row or column (a history that is not full yet) is kept when its numbers line
    # up with the well-filled ones; sparse specks between rows or columns are not.
    strong_rows, strong_cols = well_supported(line_sizes), well_supported(column_sizes)
    lined_up_cols = column_spans[strong_cols]
    row_spans = data_rows(boxes, line_of, strong_rows, line_spans, lined_up_cols, shape, text_h)
    col_spans = data_columns(numbers, row_spans, line_spans[strong_rows], shape, text_h)
    right = data_side(boxes, col_spans, shape.skip_cols)
    for _ in range(2):
        if not len(right):
            break
        # The rows again, from the data columns alone: a row label that wraps ("Round" over "1")
        # makes lines of its own, which are no rows. Once more where the columns found from these
        # rows move the header's bound: with the labels' lines taken for rows, the first data column
        # could join the header, and a last row whose one number is in it be lost.
        line_of, line_sizes, line_spans = text_lines(right, text_h)
        strong_rows = well_supported(line_sizes)
        row_spans = data_rows(right, line_of, strong_rows, line_spans, lined_up_cols, shape, text_h)
        bound = col_spans[shape.skip_cols - 1][1] if shape.skip_cols and len(col_spans) >= shape.skip_cols else None
        col_spans = data_columns(numbers, row_spans, line_spans[strong_rows], shape, text_h)
        if bound is None or len(col_spans) < shape.skip_cols or col_spans[shape.skip_cols - 1][1] >= bound:
            break
        right = data_side(boxes, col_spans, shape.skip_cols)
    height, width = image.shape[:2]
    rows, cols = shape.rows, shape.cols
    if cols is None and not shape.skip_cols and len(row_spans) - shape.skip_rows == 1:
        cols = ruled_length(image, col_spans, row_spans[-1], text_h) or strip_length(col_spans, width)
    if rows is None and not shape.skip_rows and len(col_spans) - shape.skip_cols == 1:
        rows = strip_length(row_spans, height)  # a history column, not full yet
    filled_rows = ends_filled(row_spans, shape.skip_rows, rows, height)
    filled_cols = ends_filled(col_spans, shape.skip_cols, cols, width)
    if len(row_spans) - shape.skip_rows == 1 and cols and len(filled_cols) - shape.skip_cols < cols:
        filled_cols = narrow_empties(filled_cols, shape.skip_cols, cols, width)
    if len(row_spans) - shape.skip_rows == 1 and cols and len(filled_cols) - shape.skip_cols < cols:
        filled_cols = ruled_empties(image, filled_cols, shape.skip_cols, cols, row_spans[-1], text_h)
    added = (len(filled_rows) - len(row_spans), len(filled_cols) - len(col_spans))
    return Layout(filled_rows, filled_cols, text_h, hidden, len(boxes), added)


def narrow_empties(spans: list[tuple[int, int]], skip: int, expected: int, limit: int) -> list[tuple[int, int]]:
    """A strip laid out by its content (HTML's auto layout, no cell borders): an empty cell is only as wide
    as its padding, the usual space between two numbers' ink. The `expected` cells the spans lack are put
    where the strip has that much space to spare, a whole number of times: before the first number (the
    usual margin is half such a space, or one after a header column), between two, or after the last. Else
    the spans as they are (a shape mismatch follows)."""
    data = spans[skip:]
    missing = expected - len(data)
    if missing <= 0 or len(data) < MIN_RUN:
        return spans
    start = spans[skip - 1][1] if skip else 0
    space = median(np.array([a - b for (_, b), (a, _) in zip(data, data[1:])], float))
    if space < 1:
        return spans
    # Places: 0 before the first number, k after the k-th; each with its room to spare, in empty cells.
    room = [(data[0][0] - start - (space if skip else space / 2)) / space]
    room += [(a - b - space) / space for (_, b), (a, _) in zip(data, data[1:])]
    room += [(limit - data[-1][1] - space / 2) / space]
    cells = [max(0, round(r)) for r in room]
    if sum(cells) != missing or any(c and abs(r - c) > END_TOLERANCE for r, c in zip(room, cells)):
        return spans
    out, edges = [], [start + (0 if skip else -space / 2)] + [b for _, b in data]
    for place, (edge, count) in enumerate(zip(edges, cells)):
        out += [(int(edge + (i + 1) * space), int(edge + (i + 1) * space) + 1) for i in range(count)]
        if place < len(data):
            out.append(data[place])
    return spans[:skip] + out


def ruled_empties(image: np.ndarray, spans: list[tuple[int, int]], skip: int, expected: int,
                  row: tuple[int, int], text_h: float) -> list[tuple[int, int]]:
    """A strip whose cells are ruled (a bordered table, its numbers aligned anywhere in their cells):
    the vertical rules down its row part it into cells (`strip_rules`). Where they make the
    `expected` cells after the header's, each number in one of its own, the cells holding none are the
    empty ones. Else the spans as they are (a shape mismatch follows)."""
    data = spans[skip:]
    if len(data) >= expected or not data:
        return spans
    width = image.shape[1]
    start = spans[skip - 1][1] if skip else 0
    rules = strip_rules(image, row, text_h)
    if not rules:
        return spans
    edges = [e for e in [0.0, *rules, float(width)] if e >= start]
    if skip:
        edges = [float(start)] + edges
    close = MIN_RULED_CELL * text_h
    cells = [(a, b) for a, b in zip(edges, edges[1:]) if b - a >= close]
    if len(cells) != expected:
        return spans
    middles = np.array([(a + b) / 2 for a, b in data])
    held = [np.flatnonzero((a <= middles) & (middles < b)) for a, b in cells]
    if any(len(h) > 1 for h in held) or sum(len(h) for h in held) != len(data):
        return spans
    out = [data[int(h[0])] if len(h) else (int(a + (b - a) / 4), int(a + 3 * (b - a) / 4)) for h, (a, b) in zip(held, cells)]
    return spans[:skip] + out


def strip_rules(image: np.ndarray, row: tuple[int, int], text_h: float) -> list[float]:
    """The x of each vertical rule down a strip's row: a pixel column or two unlike both sides all
    down the row, well past the text (so a digit's stem is none), however faint: Bootstrap's borders
    are 26 grey levels off white, under the edge mask's threshold."""
    height = image.shape[0]
    reach = round(RULE_REACH * text_h)
    band = image[max(0, row[0] - reach) : min(height, row[1] + reach)].astype(np.int16)
    if band.ndim == 3:
        band = band.max(axis=2)
    if band.shape[1] < 5:
        return []
    centre = band[:, 2:-2]
    unlike = np.minimum(np.abs(centre - band[:, :-4]), np.abs(centre - band[:, 4:])) >= RULE_CONTRAST
    vertical = np.flatnonzero(unlike.mean(axis=0) >= LINE_COVER) + 2
    if len(vertical) == 0:
        return []
    runs = np.split(vertical, np.flatnonzero(np.diff(vertical) > 1) + 1)  # a rule is a few pixel columns
    return [float(r.mean()) for r in runs]


def ruled_length(image: np.ndarray, spans: list[tuple[int, int]], row: tuple[int, int], text_h: float) -> int | None:
    """How many cells a one-row strip ruled into cells holds, no shape given: its numbers, and the
    empty cells ruled off after the last (a bordered "last numbers" bar not full yet), where a rule
    parts every two numbers, none lies before the first (the picture begins at the table's own
    border: what lies between the last rule and the picture's right edge is a cell, not a page's
    margin), and each empty cell is at least MIN_RULED_CELL text heights and at most as wide as the
    widest number's cell. Else None."""
    if len(spans) < MIN_RUN:
        return None
    rules = np.array(strip_rules(image, row, text_h))
    if len(rules) < len(spans) - 1 or (rules < spans[0][0]).any():
        return None
    parted = [((rules > b) & (rules < a)).any() for (_, b), (a, _) in zip(spans, spans[1:])]
    after = rules[rules > spans[-1][1]]
    if not all(parted) or len(after) == 0:
        return None
    edges = np.concatenate([[0.0], rules, [float(image.shape[1])]])
    widest = np.diff(edges[edges <= after[0]]).max()
    empties = np.diff(np.concatenate([after, [float(image.shape[1])]]))
    empties = empties[empties >= MIN_RULED_CELL * text_h]  # a double border's two lines are no cell
    if len(empties) == 0 or (empties > widest).any():
        return None
    return len(spans) + len(empties)


def strip_length(spans: list[tuple[int, int]], limit: int) -> int | None:
    """How many cells a one-row (one-column) strip holds, no shape given: its visible numbers, and the
    empty cells drawn as nothing that make one margin longer than the other by whole pitches."""
    if len(spans) < 2:
        return None
    _, excess = margin_excess(spans, 0, limit)
    k = round(abs(excess))
    return len(spans) + k if k and abs(abs(excess) - k) <= END_TOLERANCE else None


def margin_excess(data: list[tuple[int, int]], start: float, limit: float) -> tuple[float, float]:
    """The data's pitch, and by how many pitches what lies before its first span (from `start`)
    exceeds what lies after its last (to `limit`), measured between the numbers' centres: numbers
    of different widths centred in their cells (chips) have edges out of step, centres not. The
    pitch is the median step of left edges, right edges and centres together: whichever way the
    numbers are aligned, that step is the regular one, and a span that lost a glyph in
    segmentation moves one edge only."""
    lefts, rights = np.array([a for a, _ in data], float), np.array([b for _, b in data], float)
    centres = (lefts + rights) / 2
    pitch = median(np.concatenate([np.diff(lefts), np.diff(rights), np.diff(centres)]))
    return pitch, ((centres[0] - start) - (limit - centres[-1])) / pitch


def ends_filled(spans: list[tuple[int, int]], skip: int, expected: int | None, limit: int) -> list[tuple[int, int]]:
    """Spans with the empty cells at the ends of the data that nothing marks (a strip of chips whose
    empty ones are drawn as nothing, a history not yet full) added at the data's pitch, when
    `expected` says how many are missing and the picture's margins hold them: what lies before the
    first span and after the last differs by the cells missing at each end. Else the spans as they
    are (a shape mismatch follows)."""
    data = spans[skip:]
    missing = (expected or 0) - len(data)
    if missing <= 0 or not data:
        return spans
    start = spans[skip - 1][1] if skip else 0
    if len(data) >= 2:
        pitch, excess = margin_excess(data, start, limit)
    else:  # one number: the cells share the picture
        pitch = (limit - start) / expected
        excess = (sum(data[0]) / 2 - start - (limit - sum(data[0]) / 2)) / pitch
    (a0, b0), (a1, b1) = data[0], data[-1]
    if pitch <= max(b - a for a, b in data):
        return spans
    lead = (missing + excess) / 2  # the cells missing before and after: lead + trail = missing, lead - trail = excess
    k = round(lead)
    if abs(lead - k) <= END_TOLERANCE and 0 <= k <= missing:
        before = [(int(a0 - i * pitch), int(b0 - i * pitch)) for i in range(k, 0, -1)]
        after = [(int(a1 + i * pitch), int(b1 + i * pitch)) for i in range(1, missing - k + 1)]
        if not ((before and (before[0][0] + before[0][1]) / 2 < start)
                or (after and (after[-1][0] + after[-1][1]) / 2 > limit)):
            return spans[:skip] + before + data + after
    # Not after a header: the room before the data is then the header's gap, and a header row missed
    # (dark text on a bright header) leaves its first data row taken for it and a sure empty row.
    squeezed = None if skip else ends_squeezed(data, start, limit, pitch, missing)
    return spans[:skip] + squeezed if squeezed else spans


def ends_squeezed(data: list[tuple[int, int]], start: float, limit: float, pitch: float, missing: int
                  ) -> list[tuple[int, int]] | None:
    """The data with `missing` empty cells shared out over the room at one end, where only that end
    has room for them (the other's first number less than a quarter pitch further from the
    picture's side than half a pitch: no room for an empty cell there): an HTML table as wide as
    its page gives its empty columns only their padding, so they are narrower than the data's
    pitch, and the numbers left-aligned in wide cells keep the margins out of step with the cells'
    middles: both ways above miss them. None where both ends, or neither, have room, or where the
    data steps unevenly (an empty cell inside, drawn narrower: `uneven_gap` places it later)."""
    (a0, b0), (a1, b1) = data[0], data[-1]
    if np.diff([(a + b) / 2 for a, b in data]).max(initial=0) > (1 + PITCH_TOLERANCE) * pitch:
        return None
    room_before = (a0 + b0) / 2 - start - pitch / 2
    room_after = limit - (a1 + b1) / 2 - pitch / 2
    cell = pitch / 4  # an empty cell is at least its padding wide: a quarter pitch, say
    if max(room_before, room_after) < missing * cell or min(room_before, room_after) >= cell:
        return None
    if room_after >= missing * cell:
        edge = b1 + (pitch - (b1 - a1)) / 2
        share = (limit - edge) / missing
        return data + [(int(edge + (i + 0.25) * share), int(edge + (i + 0.75) * share)) for i in range(missing)]
    edge = a0 - (pitch - (b0 - a0)) / 2
    share = (edge - start) / missing
    return [(int(start + (i + 0.25) * share), int(start + (i + 0.75) * share)) for i in range(missing)] + data


def data_side(boxes: np.ndarray, col_spans: list[tuple[int, int]], skip_cols: int) -> np.ndarray:
    """The boxes right of the `skip_cols` header columns (none when there are no header columns)."""
    if not skip_cols or len(col_spans) <= skip_cols:
        return boxes[:0]
    data_left = (col_spans[skip_cols - 1][1] + col_spans[skip_cols][0]) / 2
    return boxes[boxes[:, 0] + boxes[:, 2] / 2 > data_left]


def data_rows(boxes: np.ndarray, line_of: np.ndarray, strong: np.ndarray, line_spans: np.ndarray,
              lined_up_cols: np.ndarray, shape: TableShape, text_h: float) -> list[tuple[int, int]]:
    """Row spans of the lines of `boxes`, empty rows filled in, the header's lines merged."""
    spans = kept_spans(boxes, line_of, strong, line_spans, 0, lined_up_cols)
    return header_merged(fill_missing(spans), shape.skip_rows, shape.rows, text_h, parts_narrower=False)


def data_columns(numbers: np.ndarray, row_spans: list[tuple[int, int]], lined_up_rows: np.ndarray,
                 shape: TableShape, text_h: float) -> list[tuple[int, int]]:
    """Column spans of the numbers below the header rows: words above the columns make no
    columns; empty columns filled in, the header's columns merged."""
    labels = numbers[:0]
    if shape.skip_rows and len(row_spans) > shape.skip_rows:
        data_top = (row_spans[shape.skip_rows - 1][1] + row_spans[shape.skip_rows][0]) / 2
        below = numbers[:, 1] + numbers[:, 3] / 2 > data_top
        labels, numbers = numbers[~below], numbers[below]
        if len(numbers) == 0:
            raise NotATableError("no table found: nothing but header lines")
    column_of, column_sizes, column_spans = number_columns(numbers, text_h, shape.skip_cols)
    spans = kept_spans(numbers, column_of, well_supported(column_sizes), column_spans, 1, lined_up_rows)
    # Halves first: a seven-segment column's 1s, apart from their column's other digits, are no slivers.
    found = aligned_apart_joined(slivers_dropped(halves_joined(spans), text_h), numbers, row_spans, shape)
    spans = fill_missing(found)
    spans = header_merged(spans, shape.skip_cols, shape.cols, text_h, off_line=off_the_rows(spans, numbers, row_spans, text_h))
    return spans if shape.cols else unlabelled_dropped(spans, shape.skip_cols, set(found), labels)


def unlabelled_dropped(spans: list[tuple[int, int]], skip: int, found: set[tuple[int, int]],
                       labels: np.ndarray) -> list[tuple[int, int]]:
    """Spans without the empty columns filled in right after the header (`found`: the spans that hold
    numbers) that the header row, labelling most of the columns, has no label above: the row labels'
    own cell, wide, its words too wide a mark for a number ("Round" dropped, its numbers left-aligned
    two pitches from the data), no data column (which, empty, left the table refused)."""
    if not skip or not len(labels) or len(spans) <= skip + 1:
        return spans
    labelled = within(labels[:, 0] + labels[:, 2] / 2, spans[skip:]).any(axis=0).tolist()
    if 2 * sum(labelled) < len(labelled):
        return spans  # no header row of column labels to tell
    out = list(spans)
    while len(out) > skip + 1 and out[skip] not in found and not labelled[len(spans) - len(out)]:
        del out[skip]
    return out


def off_the_rows(spans: list[tuple[int, int]], numbers: np.ndarray, row_spans: list[tuple[int, int]],
                 text_h: float) -> np.ndarray:
    """Per column span, whether its numbers sit OFF_LINE or more above or below the middle of their
    rows (the median of them): the pieces of a row label that wraps ("Round" over "1"), beside the
    data's numbers, which make the rows and sit in their middle."""
    if not len(spans) or not len(row_spans) or not len(numbers):
        return np.zeros(len(spans), bool)
    cx, cy = numbers[:, 0] + numbers[:, 2] / 2, numbers[:, 1] + numbers[:, 3] / 2
    rows = np.asarray(row_spans, float)
    row = np.clip(np.searchsorted((rows[:-1, 1] + rows[1:, 0]) / 2, cy), 0, len(rows) - 1)
    off = np.abs(cy - rows[row].mean(axis=1)) >= OFF_LINE * text_h
    inside = within(cx, spans)  # (numbers, spans)
    held, held_off = inside.sum(axis=0), (inside & off[:, None]).sum(axis=0)
    return (held > 0) & (2 * held_off >= held)  # half or more of its numbers (their median)


def aligned_apart_joined(spans: list[tuple[int, int]], numbers: np.ndarray,
                         row_spans: list[tuple[int, int]], shape: TableShape) -> list[tuple[int, int]]:
    """Runs of neighbouring spans that never hold a number in the same row, and together hold one in
    nearly every row that holds a number from their first on, joined: one column whose numbers sit
    left, centred or right by their kind (a roulette history: red left, zero centred, black right).
    Columns of a table share their rows. In a few rows that may be chance: there they are joined
    only where the given shape has too few columns for them apart, and without one it is no call."""
    if len(spans) < 2 or not row_spans:
        return spans
    cx, cy = numbers[:, 0] + numbers[:, 2] / 2, numbers[:, 1] + numbers[:, 3] / 2
    starts, ends = np.array(row_spans).T
    row_of = np.searchsorted(starts, cy, side="right") - 1
    in_row = (row_of >= 0) & (cy <= ends[np.maximum(row_of, 0)])  # a label's line between rows is in none
    rows_in = [set(row_of[in_row & (a <= cx) & (cx <= b)].tolist()) for a, b in spans]
    # Words (a label column) are never one of them; two digits are, however narrow the others (a
    # history's red and green columns of one digit each, beside its black of two).
    widths = np.array([b - a for a, b in spans])
    numeric = ((widths <= WORD_WIDTH * median(widths)) | (widths <= TWO_DIGITS * median(numbers[:, 3]))).tolist()
    # Nor is a number inside the words' span: a label's ("Round 1", its 1 a word space off, a column
    # of one number, beside a first data column empty in that row alone).
    words = [span for span, is_numeric in zip(spans, numeric) if not is_numeric]
    numeric = [is_numeric and not any(a < wb and wa < b for wa, wb in words)
               for (a, b), is_numeric in zip(spans, numeric)]
    out, i = [], 0
    while i < len(spans):
        j, held = i + 1, set(rows_in[i]) if numeric[i] else set()
        while j < len(spans) and held and rows_in[j] and numeric[j] and not held & rows_in[j]:
            held |= rows_in[j]
            j += 1
        apart = j - i > 1 and len(held) >= APART_ROWS * len(set().union(*rows_in[i:]))
        if apart and len(held) < APART_MIN_ROWS:
            if not shape.cols:
                raise SegmentationError(
                    "columns that never hold a number in the same row: one column of numbers aligned by their "
                    "kind, or several? pass the table's shape (--rows/--cols, or rows/cols in config.yaml)")
            apart = len(spans) > shape.cols + shape.skip_cols
        if apart:
            out.append((spans[i][0], spans[j - 1][1]))
            i = j
        else:
            out.append(spans[i])
            i += 1
    return out


def slivers_dropped(spans: list[tuple[int, int]], text_h: float) -> list[tuple[int, int]]:
    """Columns without the slivers beside one: a span a fraction as wide as the columns, closer to
    a neighbour than columns lie to each other, and within a few text heights, is the side of a
    frame around that neighbour's number (a hot number's highlight), found in enough rows to make a
    column of its own. A column of lone 1s is as narrow, but a whole column gap or more from both
    neighbours, however aligned; in a strip of left-aligned numbers, a lone 1 before an 8 is closer
    than the two-digit numbers lie to each other, but three text heights off."""
    if len(spans) < 4:
        return spans
    widths = np.array([b - a for a, b in spans])
    gaps = np.array([b0 - a1 for (_, a1), (b0, _) in itertools.pairwise(spans)], float)
    nearest = np.minimum(np.append(gaps, np.inf), np.insert(gaps, 0, np.inf))
    near = (nearest < SLIVER_GAP * median(gaps)) & (nearest < SLIVER_REACH * text_h)
    sliver = (widths < SLIVER_WIDTH * median(widths)) & near
    return [span for span, drop in zip(spans, sliver) if not drop]


def halves_joined(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Columns split in two rejoined: where most of a column's numbers have a wide gap inside
    (a seven-segment "1" sits at the right of its digit cell), its digits group into two spans,
    side by side, together no wider than the other columns and far closer than columns are."""
    if len(spans) < 4:
        return spans
    width = median(np.array([b - a for a, b in spans]))
    gap = median(np.array([b0 - a1 for (_, a1), (b0, _) in zip(spans, spans[1:])]))
    out = [spans[0]]
    for a, b in spans[1:]:
        pa, pb = out[-1]
        if a - pb < SPLIT_GAP * gap and b - pa <= SPLIT_WIDTH * width and pb - pa < width and b - a < width:
            out[-1] = (pa, b)
        else:
            out.append((a, b))
    return out


def header_merged(spans: list[tuple[int, int]], skip: int, expected: int | None,
                  text_h: float, parts_narrower: bool = True, off_line: np.ndarray | None = None
                  ) -> list[tuple[int, int]]:
    """Spans with the header's: labels of several words or lines ("Round 1", a label that wraps)
    make several spans where the table has `skip` header rows or columns. The data's own spans are
    the last `expected` ones (when given) or, else, the run of regular pitch that ends the table;
    whatever lies before them is the header, merged into `skip` spans. `off_line`: `off_the_rows`'
    flags, for `header_bound`."""
    if not skip or len(spans) <= skip + 1:
        return spans
    data = expected if expected else regular_tail(spans)
    if data is None:
        return spans
    if not expected:
        data = header_bound(spans, min(data, len(spans) - skip), text_h, parts_narrower, off_line)
    if len(spans) - data <= skip:
        return spans
    head, tail = spans[: len(spans) - data], spans[len(spans) - data :]
    if max(b for _, b in head) >= tail[0][0] or any(b0 >= a1 for (_, b0), (a1, _) in zip(tail, tail[1:])):
        return spans  # overlapping spans: no clean split into header and data
    merged = head[: skip - 1] + [(head[skip - 1][0], max(b for _, b in head[skip - 1 :]))]
    return merged + tail


def header_bound(spans: list[tuple[int, int]], data: int, text_h: float, parts_narrower: bool = True,
                 off_line: np.ndarray | None = None) -> int:
    """The data's spans less those at its start that belong to the header: the second word or
    line of a label ("Round" and "1") that happens to sit a pitch before the first data span.
    It lies a word space from the span before, closer than data spans lie to each other, and,
    `parts_narrower` (columns), is narrower than the data's numbers. A label's second line (rows)
    is as high as the data's: there the line gap alone tells it, and must be much the smaller.
    A narrower span `off_line` (columns) is a label's, whatever the gaps: a wrapped label's end
    ("Roun" too wide a mark, its "d" a span of its own above the "1"s)."""
    gaps = [b0 - a1 for (_, a1), (b0, _) in zip(spans, spans[1:])]  # gaps[i]: between span i and i + 1
    typical = median(np.array(gaps[len(spans) - data :])) if data > 2 else 0
    width = median(np.array([b - a for a, b in spans[len(spans) - data + 1 :]])) if data > 2 else 0
    while data > 2:
        first = len(spans) - data
        before, after = gaps[first - 1], gaps[first]
        # A span far wider than the data's holds a word, never a number: the rest of a label whose
        # letters made spans of their own ("R", "und" of a "Round 1"), whatever the gaps.
        if parts_narrower and spans[first][1] - spans[first][0] > WORD_WIDTH * width:
            data -= 1
            continue
        if off_line is not None and off_line[first] and spans[first][1] - spans[first][0] <= LABEL_WIDTH * width:
            data -= 1
            continue
        if before < 0:  # overlapping: a label's two lines, one (mostly) inside the other; else no call
            (a0, a1), (b0, b1) = spans[first - 1], spans[first]
            if 2 * (min(a1, b1) - max(a0, b0)) < min(a1 - a0, b1 - b0):
                break
        # In a tight table the header's cell is as close as its parts are to each other: no call.
        elif not (before < min(WORD_SPACE * text_h, HEADER_GAP * typical)
                  and before * (LABEL_GAP_RATIO if parts_narrower else LINE_GAP_RATIO) <= after):
            break
        # A span as wide as the data's is taken for data: were it a label ("Round 12"), its column
        # counts 1, 2, 3 and the table is refused (predictor.check_no_header_left), never shifted.
        elif parts_narrower and spans[first][1] - spans[first][0] > LABEL_WIDTH * width:
            break
        data -= 1
    return data


def regular_tail(spans: list[tuple[int, int]]) -> int | None:
    """How many spans end the table at one regular pitch (the data), or None when too few spans.
    The run is walked back from the middle: a header sits at the start, while a last row made
    taller by a wrapped label is still data. So is a run of MIN_RUN steps or more at a pitch of its
    own before it: the rows before the first whose label wraps ("Round 9" above "Round" "10")."""
    centres = [(a + b) / 2 for a, b in spans]
    steps = np.diff(centres)
    if len(steps) < 3:
        return None
    pitch = median(steps[len(steps) // 2 :])  # the far half: surely data
    start = len(steps) // 2
    while True:
        while start > 0 and abs(steps[start - 1] - pitch) <= PITCH_TOLERANCE * pitch:
            start -= 1
        # A step between two pitches, then a regular run of its own (a header has a line or two).
        run = start - 1
        if run < MIN_RUN:
            break
        pitch = median(steps[run - MIN_RUN : run])
        if not all(abs(s - pitch) <= PITCH_TOLERANCE * pitch for s in steps[run - MIN_RUN : run]):
            break
        start = run
    return len(spans) - start


def locate_at(image: np.ndarray, scale: float, shape: TableShape | None = None, digit_gap: float = DIGIT_GAP,
              faint: bool = False) -> Layout:
    """`locate` on the image resized by `scale` (2, or 1/2, 1/4, ...: repeated `halve`), with spans
    and text height in the image's pixels."""
    if scale == 1:
        return locate(image, shape, digit_gap, faint)
    if scale > 1:
        resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    else:
        resized = image
        for _ in range(round(np.log2(1 / scale))):
            resized = halve(resized)
    row_spans, col_spans, text_h, hidden, count, filled = locate(resized, shape, digit_gap, faint)

    def back(spans_: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(int(a / scale), int(np.ceil(b / scale))) for a, b in spans_]

    return Layout(back(row_spans), back(col_spans), text_h / scale, hidden, count, filled)


def tight_digit_gap(image: np.ndarray) -> float | None:
    """A narrower gap between the digits of one number, for tables whose cells sit closer than
    DIGIT_GAP: the horizontal gaps between neighbouring glyphs of a line fall into two clusters
    (within a number, between cells) with an empty band between them; the band's middle, as a
    fraction of the text height. None when the gaps show no such band below DIGIT_GAP."""
    boxes = text_boxes(text_mask(image))
    if len(boxes) < 4:
        return None
    text_h = median(boxes[:, 3])
    line_of, _, _ = group_spans(boxes, 1, LINE_STEP * text_h)
    order = np.lexsort((boxes[:, 0], line_of))
    b, line = boxes[order], line_of[order]
    gaps = np.sort(((b[1:, 0] - (b[:-1, 0] + b[:-1, 2]))[line[1:] == line[:-1]]) / text_h)
    gaps = gaps[(gaps >= 0) & (gaps < DIGIT_GAP)]
    if len(gaps) < 4:
        return None
    jumps = np.diff(gaps)
    i = int(np.argmax(jumps))
    if jumps[i] < TIGHT_BAND:
        return None
    return float((gaps[i] + gaps[i + 1]) / 2)


def well_formed(layout: Layout) -> bool:
    """Rows and columns in order, none overlapping the next: numbers merged across cells (text too
    small for the scale it was located at) give overlapping spans, and no grid."""
    return all(b0 < a1 for spans in (layout.row_spans, layout.col_spans) for (_, b0), (a1, _) in zip(spans, spans[1:]))


def found_shape(row_spans: list, col_spans: list, shape: TableShape) -> tuple[tuple[int, int], tuple[int, int]]:
    """(found, expected) numbers of rows and columns, after skipping header rows/columns."""
    found = (len(row_spans) - shape.skip_rows, len(col_spans) - shape.skip_cols)
    return found, (shape.rows or found[0], shape.cols or found[1])


def fits(layout: Layout, shape: TableShape) -> bool:
    """Whether `layout` is a grid of the expected shape (`found_shape`), rows and columns in order."""
    found, expected = found_shape(layout.row_spans, layout.col_spans, shape)
    return well_formed(layout) and found == expected


def upscalable(image: np.ndarray) -> bool:
    """Whether the image is small enough to be located at 2x (memory: 4x its pixels, and more)."""
    return image.shape[0] <= 2 * SMALL_CELL * MAX_ROWS_AT_2X and image.shape[0] * image.shape[1] <= MAX_PIXELS_AT_2X


def halved_for_large_text(image: np.ndarray, shape: TableShape) -> Layout | None:
    """The layout on a copy halved once, where it is a grid of rows at least 2 * SHRUNK_ROW apart at
    full size with text still MIN_SHRUNK_TEXT high there; else None."""
    with contextlib.suppress(SegmentationError):
        half = locate_at(image, 0.5, shape)
        if (well_formed(half) and half.text_height * 0.5 >= MIN_SHRUNK_TEXT
                and image.shape[0] >= 2 * SHRUNK_ROW * len(half.row_spans)):
            return half
    return None


def shrunk_fits(layout: Layout, scale: float, shape: TableShape) -> bool:
    """Whether a layout found on a copy shrunk by `scale` stands: the expected shape, rows and columns
    in order, text still MIN_SHRUNK_TEXT high there, no data rows far lower than it (`short_rows`),
    and, after header rows or columns, none of the data's lines made up at its ends (`ends_filled`):
    a caption lost on the copy leaves the first data row in the header and one filled in after the
    last, every row one over. (A strip's empty end cells, after no header columns, stand.)"""
    filled_after_header = (shape.skip_rows > 0 and layout.filled[0] > 0) or (shape.skip_cols > 0 and layout.filled[1] > 0)
    return (layout.text_height * scale >= MIN_SHRUNK_TEXT and fits(layout, shape)
            and not short_rows(layout, shape.skip_rows) and not filled_after_header)


def find_grid(image: np.ndarray, shape: TableShape | None = None) -> Grid:
    """Locate the table's rows and columns. Raises SegmentationError when no table is found
    or the found shape (after skipped header rows/columns) differs from the expected one."""
    shape = shape or TableShape()
    rows_hint = image.shape[0] / (shape.rows + shape.skip_rows) if shape.rows else None
    located = None
    scale, located_at, shrunk_at = 1.0, 1.0, 1.0
    while rows_hint and rows_hint * scale >= 2 * SHRUNK_ROW:
        scale /= 2
    while not rows_hint and image.shape[0] * image.shape[1] * scale * scale > SHRINK_PIXELS:
        scale /= 2  # no shape: a big picture is located on a copy of at most SHRINK_PIXELS first
    if scale < 1:
        # High-DPI screenshots: the layout is found as well at a fraction of the pixels. Any
        # doubt (no table, tiny text, another shape) and the full-size image decides.
        try:
            located = locate_at(image, scale, shape)
        except SegmentationError:
            pass
        if located and not shrunk_fits(located, scale, shape):
            located = None
        if located:
            shrunk_at = scale
    if located is None:
        error = None  # why the full size is no layout, if it is none
        try:
            located = locate(image, shape)
            pitch = image.shape[0] / len(located.row_spans)
            small = pitch < SMALL_CELL
            if not rows_hint and pitch >= 2 * SHRUNK_ROW:
                # No shape, large text: a glow (neon) blurs its edges at full size, and numbers are
                # missed there, a column's worth; on a halved copy the edges are sharp again. Large
                # chips: at full size their rims' stripes make rows (`stripes_taken_for_rows`), halved not.
                half = halved_for_large_text(image, shape)
                if half is not None and (half.mark_count >= MISSED_AT_FULL_SIZE * located.mark_count or (
                        stripes_taken_for_rows(located, shape.skip_rows)
                        and not stripes_taken_for_rows(half, shape.skip_rows))):
                    located, located_at, shrunk_at = half, 0.5, 0.5
        except SegmentationError as exc:
            error, small = exc, True
        if (small or (rows_hint and rows_hint < SMALL_CELL)) and upscalable(image):
            # In tiny cells the edge mask joins text to the grid lines: look again at 2x, unless only
            # 1x finds a grid (JPEG blocks at 2x join a dense table's numbers into one another).
            try:
                at_2x = locate_at(image, 2, shape)
            except SegmentationError as exc:
                at_2x = None
                if located is None:
                    error = exc
            if at_2x is not None and (located is None or well_formed(at_2x) or not well_formed(located)):
                located, located_at = at_2x, 2.0
        if not rows_hint and error is not None and (located is None or not well_formed(located)):
            # ... or so many missed that the full size is no layout at all (the columns left never
            # share a row), nor 2x a grid: the halved copy is taken if it is one. (Where the full
            # size is a layout but no grid, numbers ran into each other: halved, they do more so.)
            half = halved_for_large_text(image, shape)
            if half is not None:
                located, located_at, shrunk_at = half, 0.5, 0.5
        if located is None:
            raise error
        if (not rows_hint and located_at == 1 and well_formed(located)
                and stripes_taken_for_rows(located, shape.skip_rows) and upscalable(image)):
            # No shape, and a header row far higher than the text: data rows merged into it (small
            # framed tiles at 1x, their frames' sides joining the lines). At 2x the lines part.
            with contextlib.suppress(SegmentationError):
                retry = locate_at(image, 2, shape)
                if well_formed(retry) and not stripes_taken_for_rows(retry, shape.skip_rows):
                    located, located_at = retry, 2.0
    if not fits(located, shape) and located_at == 1 and upscalable(image):
        # Small text in rings or frames a few pixels off it: at 1x the ring and its number are one mark.
        with contextlib.suppress(SegmentationError):
            retry = locate_at(image, 2, shape)
            if fits(retry, shape):
                located, located_at = retry, 2.0
    given = bool(shape.rows or shape.cols)
    hidden = located.hidden_text
    header_missed = False  # the rings taken for the text at 1x, and more lines at 2x
    if located_at == 1 and (hidden == HIDDEN_INSIDE or hidden == HIDDEN_FUSED and not given) and well_formed(
            located) and upscalable(image):
        # Numbers joined to their rings (`marks`): at 2x they part. Where the rings were taken for the
        # text, the text is then far less high. Where they were left out, the numbers missed left a
        # grid of few cells or of wide ones: the shape, given, was not found (above); without it the
        # grid at 2x has the same rows and columns, a wide one maybe parted in two.
        with contextlib.suppress(SegmentationError):
            retry = locate_at(image, 2, shape)
            rings_for_text = hidden == HIDDEN_INSIDE and retry.text_height < SPECK_HEIGHT * located.text_height
            header_missed = rings_for_text and (len(retry.row_spans) > len(located.row_spans)
                                                or len(retry.col_spans) > len(located.col_spans))
            if (hidden == HIDDEN_FUSED or rings_for_text) and (
                    fits(retry, shape) if given else well_formed(retry) and same_rows_and_more(
                        retry, located, shape, after=hidden == HIDDEN_FUSED)):
                located, located_at = retry, 2.0
    if header_missed and located_at == 1 and not given and (shape.skip_rows or shape.skip_cols):
        # The rings taken for the text, and at 2x more lines but no grid: the header's labels, no
        # higher than the numbers inside the rings, were left out beside them as specks at 1x, and
        # the first row and column of rings taken for the header (every value a row and a column over).
        raise SegmentationError(
            "numbers in rings, and a header expected: the header's labels could not be told from the first "
            "row or column of rings; pass the table's shape (--rows/--cols, or rows/cols in config.yaml)")
    if not fits(located, shape) and (tight := tight_digit_gap(image)) is not None:
        # Tight tables (browser-default `cellpadding=2`): neighbours closer than digits usually are.
        retry = locate_at(image, located_at, shape, tight)
        if fits(retry, shape):
            located = retry
    elif shape.skip_cols and not shape.cols and (tight := tight_digit_gap(image)) is not None:
        # No shape to tell: a label's number ("Round 1") a word space from the first data column's
        # is one number with it at the usual digit gap, and that column silently joins the header.
        retry = locate_at(image, located_at, shape, tight)
        if well_formed(retry) and header_parted(retry, located, shape.skip_cols):
            located = retry
    if shape.rows and scale < 0.5 and (not fits(located, shape) or stripes_taken_for_rows(located, shape.skip_rows)):
        # Large round chips at 2x: at a quarter their rims merge with their numbers, at full size
        # each white stripe of a rim is a mark as high as a digit, and the stripes make rows of their
        # own (as many as the shape's, by chance); in between the numbers stand apart.
        while (scale := scale * 2) < 1:
            with contextlib.suppress(SegmentationError):
                retry = locate_at(image, scale, shape)
                if shrunk_fits(retry, scale, shape):
                    located, shrunk_at = retry, scale
                    break
    if not shape.rows and len(located.col_spans) == shape.skip_cols + 1 and well_formed(located):
        # One column (a history), no shape to check it: a number fainter than the others (red on a
        # highlighted row) missed, and its row with it, would shift the rows after it.
        with contextlib.suppress(SegmentationError):
            retry = locate_at(image, located_at, shape, faint=True)
            if well_formed(retry) and len(retry.col_spans) == len(located.col_spans) and rows_kept(retry, located):
                located = retry
    if shape.skip_rows and well_formed(located) and room_above(located):
        # Header rows expected, and a row's room above the first found: dark words on a bright header
        # band (mvp.css's dark table), fainter than the data's white on dark, were missed, and the
        # first row of numbers would be taken for the header, every row shifted. Faint marks over
        # most of the data's columns, one row above, are that header.
        with contextlib.suppress(SegmentationError):
            retry = locate_at(image, located_at, shape, faint=True)
            if (well_formed(retry) and len(retry.row_spans) == len(located.row_spans) + 1
                    and rows_kept(retry, located) and header_over_columns(image, retry)):
                located = retry
    if shrunk_at < 1 and well_formed(located):
        located = header_ends(image, located, shape, shrunk_at)
    row_spans, col_spans, text_h = located.row_spans, located.col_spans, located.text_height
    found, expected = found_shape(row_spans, col_spans, shape)
    if not well_formed(located):
        chips = "" if shape.rows and shape.cols else (
            "; if it is a board of chips, pass its shape (--rows/--cols, or rows/cols in config.yaml) and they are "
            "read chip by chip")
        raise NotATableError("no grid of cells found: the marks do not line up in rows and columns; if this is a "
                             "table, its numbers run into each other: capture it at a larger size "
                             "(browser.device_scale_factor)" + chips)
    if found != expected or min(found) < 1:
        few = found[0] * found[1] * FEW_MARKS <= expected[0] * expected[1]
        raise SegmentationError(
            f"found {found[0]}x{found[1]} cells (after skipping {shape.skip_rows} header rows, "
            f"{shape.skip_cols} header columns), expected {expected[0]}x{expected[1]}: "
            + ("so few marks are not such a table (on a page: a placeholder or a loading picture? wait for the "
               "table with a page action, wait_for or wait_gone), or check rows/cols" if few else
               "check rows/cols and skip_rows/skip_cols for this table, or capture the table element alone")
        )
    H, W = image.shape[:2]
    data_rows, data_cols = row_spans[shape.skip_rows :], col_spans[shape.skip_cols :]
    if not shape.cols and len(data_rows) == 1 and (k := uneven_gap(data_cols)) is not None:
        raise SegmentationError(
            f"the strip's numbers are unevenly spaced after its number {k + 1}: an empty cell there, drawn narrower "
            "than the others? pass --cols (or cols in the table's config) to read it")
    vertical, horizontal = grid_lines(image, (data_rows[0][0], data_rows[-1][1]), (data_cols[0][0], data_cols[-1][1]),
                                      text_h)
    return Grid(
        rows=bounds(row_spans, H, text_h, horizontal)[shape.skip_rows :],
        cols=whole_column(bounds(col_spans, W, text_h, vertical)[shape.skip_cols :], found[0],
                          col_spans[shape.skip_cols - 1][1] + 1 if shape.skip_cols else 0, W),
        text_height=text_h,
        # The header's bound is where its spans end, whether the shape is given or not (its words
        # and wrapped lines merged, `header_merged`): sure enough to cut at.
        headed=(shape.skip_rows > 0, shape.skip_cols > 0),
    )


def uneven_gap(spans: list[tuple[int, int]]) -> int | None:
    """The first place (index of the span before it) where a strip's numbers, `spans` of their text, stand
    further apart than their pitch allows, and not by a whole pitch: an empty cell of a table laid out by
    its content (HTML's auto layout) is only as wide as its padding, and leaves its neighbours half a pitch
    or so further apart, the space between their ink up to twice the usual. None where the spacing is even:
    a table of equal cells (the numbers' ink apart by more or less with their digits, their centres not),
    or one laid out by its content without empty cells (centres apart by up to 1.2 pitches, two digits
    beside one)."""
    if len(spans) < MIN_RUN + 1:
        return None
    starts, ends = np.array([a for a, _ in spans], float), np.array([b for _, b in spans], float)
    centres, gaps = np.diff((starts + ends) / 2), starts[1:] - ends[:-1]
    pitch, space = median(centres), median(gaps)
    odd = ((centres >= UNEVEN_PITCH[0] * pitch) & (centres <= UNEVEN_PITCH[1] * pitch)
           & (gaps >= UNEVEN_SPACE * max(space, 1)))
    return int(np.flatnonzero(odd)[0]) if odd.any() else None


def room_above(layout: Layout) -> bool:
    """Whether a row of the layout's pitch fits above its first row."""
    rows = layout.row_spans
    return len(rows) >= 3 and rows[0][0] >= float(np.median(np.diff([a for a, _ in rows])))


def header_over_columns(image: np.ndarray, layout: Layout) -> bool:
    """Whether the layout's first row holds faint marks over most of its columns (a header's labels,
    one per column), not a caption's few words."""
    top, bottom = layout.row_spans[0]
    boxes = text_boxes(text_mask(image[max(0, top - 2) : bottom + 2], faint=True))
    if len(boxes) == 0:
        return False
    centres = boxes[:, 0] + boxes[:, 2] / 2
    cols = np.asarray(layout.col_spans, float)
    middles = cols.mean(axis=1)
    reach = float(np.median(np.diff(middles))) / 2 if len(cols) > 1 else float(cols[0, 1] - cols[0, 0])
    nearest = np.abs(centres[:, None] - middles[None, :]).argmin(axis=1)  # each mark's column ...
    near = np.abs(centres - middles[nearest]) <= reach  # ... within half a pitch of its middle
    return len(set(nearest[near].tolist())) >= HEADER_COLUMNS * len(cols)


def header_ends(image: np.ndarray, layout: Layout, shape: TableShape, scale: float) -> Layout:
    """`layout`, found on a copy shrunk by `scale`, with its header's last column and row reaching as
    far towards the data as the header's glyphs do at full size. Shrunk, a bold word's letters run
    into a blob no glyph is as wide as, and only a label's number is left ("1" of "Round 1" wrapped
    in two lines): the first column's cells then began in the word, and held its "d". Only the strip
    between the header's span and the data's is looked at, a few percent of the pixels, for marks as
    high as the text's letters."""
    margin = int(np.ceil(2 / scale))  # how far a span found shrunk may be off at full size
    rows, cols = list(layout.row_spans), list(layout.col_spans)
    for spans, skip, across, axis in ((cols, shape.skip_cols, rows[shape.skip_rows :], 0),
                                      (rows, shape.skip_rows, cols[shape.skip_cols :], 1)):
        if not skip or len(spans) <= skip or not across:
            continue
        (start, end), data_start = spans[skip - 1], spans[skip][0]
        lo, hi = across[0][0], across[-1][1]
        strip = image[lo:hi, end : data_start - margin] if axis == 0 else image[end : data_start - margin, lo:hi]
        if strip.shape[0] < 2 or strip.shape[1] < 2:
            continue
        boxes = text_boxes(text_mask(strip))
        boxes = boxes[boxes[:, 3] >= SPECK_HEIGHT * layout.text_height]  # letters; not a chip's stripes
        if len(boxes):
            spans[skip - 1] = (start, max(end, end + int((boxes[:, axis] + boxes[:, axis + 2]).max())))
    return layout._replace(row_spans=rows, col_spans=cols)


def whole_column(cols: tuple[tuple[int, int], ...], rows: int, start: int, width: int) -> tuple[tuple[int, int], ...]:
    """The data columns' bounds; one data column alone, of rows, reaches from `start` (the picture's
    left edge, or right after the header's text) to the picture's right edge: a history column's
    numbers sit left or right by their kind, and those the search for text missed (a red number on
    a highlighted row, fainter than the white ones) are still in their cells, read or flagged, not
    left out. (One cell is no column: a lone mark keeps its bounds.)"""
    return cols if len(cols) != 1 or rows < 2 else ((start, width),)


def cut_by_the_edge(image: np.ndarray, grid: Grid) -> np.ndarray:
    """Per cell (row-major), whether its number may go on beyond the picture's left or right edge: a
    table cut off by the screenshot (an element wider than the window) shows the first digits of its
    last column's numbers, "30" as a whole 3, read surely. Where the first or last column reaches
    the edge and most of its numbers touch it (or end a digit gap from it), none of them two digits
    wide, those are; a table with no side padding touches the edge with its two-digit numbers whole."""
    W = image.shape[1]
    rows, cols = grid.shape
    cut = np.zeros(rows * cols, bool)
    th = grid.text_height
    for c, at_edge in ((cols - 1, grid.cols[-1][1] >= W - 1), (0, grid.cols[0][0] <= 0)):
        if not at_edge:
            continue
        x0, x1 = grid.cols[c]
        inks = []  # (cell, left, right, height) of the ink of each cell holding a number
        for r, (y0, y1) in enumerate(grid.rows):
            strip = image[y0:y1, x0:x1]
            if strip.size == 0:
                continue
            _, _, stats = components(text_mask(strip))
            glyphs = stats[1:][(stats[1:, 3] >= SPECK_HEIGHT * th) & (stats[1:, 3] <= TALL_HEIGHT * th)]
            if len(glyphs):
                inks.append((r * cols + c, int(glyphs[:, 0].min()), int((glyphs[:, 0] + glyphs[:, 2]).max()),
                             int(glyphs[:, 3].max())))
        if not inks:
            continue
        # The digits' own height, not the grid's text height (measured where the grid was found).
        height = median(np.array([h for *_, h in inks]))
        reach = DIGIT_GAP * height  # the cut may fall between a number's digits
        limit = x1 - x0 - 1
        touching = [(i, lft, rgt) for i, lft, rgt, _ in inks if (rgt >= limit - reach if c == cols - 1 else lft <= reach)]
        whole = any(rgt - lft >= TWO_DIGITS_WIDE * height for _, lft, rgt in touching)
        if len(touching) >= 2 and 2 * len(touching) >= len(inks) and not whole:
            cut[[i for i, *_ in touching]] = True
    return cut


def run_into_the_first_column(image: np.ndarray, grid: Grid) -> np.ndarray:
    """Per cell (row-major), whether the first column's cell holds only ink run in from the left: a
    row label wider than its column (chota's "Round" over a wrapped "10") ends inside an empty first
    cell, and the word's last letters read as a sure 6. The run is ink across the cell's left side,
    as high there as a glyph (not a rule a number touches), more of it outside than in (not the
    cell's own number, a pixel of it cut off), holding nothing (not a tile's frame), and what joins
    it (in the text mask, a word's letters are one piece); a number apart from it is the cell's own
    (the normaliser drops the piece beside it)."""
    rows, cols = grid.shape
    cut = np.zeros(rows * cols, bool)
    x0, x1 = grid.cols[0]
    th = grid.text_height
    top, bottom = grid.rows[0][0], grid.rows[-1][1]
    start = max(0, x0 - int(np.ceil(RUN_REACH * th)))
    edge = x0 - start
    if edge < 2 or bottom <= top:
        return cut
    # One mask for the column and what lies left of it (a row's own would do, at rows times the calls).
    _, labels, stats = components(text_mask(image[top:bottom, start:x1]))
    x, y, w, h = (stats[1:, i] for i in range(4))
    ys, xs = np.nonzero(labels[:, edge - 2 : edge])
    ids = labels[ys, xs + edge - 2]
    lo, hi = np.full(len(x) + 1, labels.shape[0]), np.full(len(x) + 1, -1)
    np.minimum.at(lo, ids, ys)
    np.maximum.at(hi, ids, ys)
    glyph = (h >= SPECK_HEIGHT * th) & (h <= TALL_HEIGHT * th)  # not specks, not lines or frames
    across = glyph & (hi - lo + 1 >= SPECK_HEIGHT * th)[1:] & (x + w > edge) & (edge - x >= x + w - edge)
    if not across.any():
        return cut
    row = np.searchsorted(np.array([b for _, b in grid.rows]) - top, y + h / 2, side="right")
    for r in np.unique(row[across]):
        if r >= rows:
            continue
        mine = np.flatnonzero((row == r) & glyph & (x + w > edge))  # the cell's ink, and what runs into it
        inside = [(x[mine] > x[i]) & (x[mine] + w[mine] < x[i] + w[i]) & (y[mine] > y[i]) & (y[mine] + h[mine] < y[i] + h[i])
                  for i in mine]
        runs = [i for i, held in zip(mine, inside) if across[i] and not held.any()]
        if not runs:
            continue
        run_end = max(x[i] + w[i] for i in runs)
        for i in mine[np.argsort(x[mine])]:  # what joins the run belongs to it
            if i not in runs and x[i] - run_end <= AT_THE_SIDE * th:
                run_end = max(run_end, x[i] + w[i])
        cut[r * cols] = bool((x[mine] + w[mine] <= run_end).all())
    return cut


def crop_cells(image: np.ndarray, grid: Grid) -> np.ndarray:
    """(rows * cols, ch, cw[, channels]) stack of equal-sized cell crops, row-major, each
    centred on its cell.

    Equal sizes let the normaliser process the whole table as one array batch. Cells a
    pixel or two narrower than the widest get that much of their neighbours' edges, which
    the normaliser ignores. The image is padded (with its median colour) for border cells.
    """
    ch = max(b - a for a, b in grid.rows)
    cw = max(b - a for a, b in grid.cols)
    py, px = ch // 2 + 1, cw // 2 + 1
    # Beyond the image: the table's background, not its edge repeated, which would smear a
    # digit cut by the image edge into a line.
    fill = np.median(image.reshape(-1, *image.shape[2:])[:: max(1, image.size // 4096)], axis=0)
    padded = cv2.copyMakeBorder(image, py, py, px, px, cv2.BORDER_CONSTANT, value=np.atleast_1d(fill).tolist())
    ys = [py + (a + b) // 2 - ch // 2 for a, b in grid.rows]
    xs = [px + (a + b) // 2 - cw // 2 for a, b in grid.cols]
    cells = np.empty((len(ys) * len(xs), ch, cw, *image.shape[2:]), image.dtype)
    for i, (y, x) in enumerate((y, x) for y in ys for x in xs):
        cells[i] = padded[y : y + ch, x : x + cw]
    # The first column's crops, as wide as the widest column's, reach back into the header: in a tight
    # table a bold label's tail would sit in them. Beyond the cell's bound they show its background
    # (`Grid.headed`: a header is there, and its bound is sure). So do the first row's, above it.
    grid_cells = cells.reshape(len(ys), len(xs), ch, cw, *image.shape[2:])
    if grid.headed[1] and (cut := grid.cols[0][0] - HEADER_SLACK - (xs[0] - px)) > 0:
        blank_before(grid_cells[:, 0], cut)
    if grid.headed[0] and (cut := grid.rows[0][0] - HEADER_SLACK - (ys[0] - py)) > 0:
        blank_before(grid_cells[0].swapaxes(1, 2), cut)
    # In a strip, a cell narrower than the widest (an empty one only its padding wide, in a ruled strip):
    # its crop would reach into its neighbours and hold a right-aligned 7 beside it, read surely.
    # Beyond its bounds (and a little slack) it shows its background. (Not in tables: their first
    # column's bound may cut a ball's rim, which the normaliser needs whole.)
    narrow = [j for j, (a, b) in enumerate(grid.cols) if (b - a) + 2 * NARROW_SLACK < cw] if len(ys) == 1 else []
    for j in narrow:
        (a, b), x = grid.cols[j], xs[j]
        left, right = a - NARROW_SLACK - (x - px), b + NARROW_SLACK - (x - px)
        column = grid_cells[:, j]
        background = crop_background(column)  # before either side is blanked
        if left > 0:
            blank_before(column, left, background)
        if right < cw:
            blank_before(column[:, :, ::-1], cw - right, background)
    return cells


def blank_before(crops: np.ndarray, cut: int, background: np.ndarray | None = None) -> None:
    """(N, h, w[, c]) crops, in place: their pixel columns before `cut` show their background (each
    crop's own, `crop_background`, unless given)."""
    crops[:, :, :cut] = (crop_background(crops) if background is None else background)[:, None, None]


def crop_background(crops: np.ndarray) -> np.ndarray:
    """(N, h, w[, c]) crops -> each one's background colour, the median of its pixels (a crop is mostly
    background)."""
    n, h, w = crops.shape[:3]
    step = max(1, int((h * w / BG_VOTES) ** 0.5))
    return np.median(crops[:, ::step, ::step].reshape(n, -1, *crops.shape[3:]), axis=1).astype(crops.dtype)
