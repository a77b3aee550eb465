"""A predictor is preprocess + model + postprocess: image -> segmented cells (or cell boxes given by the
page) -> one batch -> Table."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from recognizer.cellboxes import arrange, check_inside, crop_boxes
from recognizer.chips import Chips, chip_crops, faces_text_height, find_chips
from recognizer.errors import (
    HeaderTakenForData,
    InputImageError,
    NotATableError,
    SegmentationError,
)
from recognizer.imageio import to_bgr
from recognizer.imageops import median
from recognizer.labels import index_to_value
from recognizer.normalize import ink_shapes, normalize_batch, normalize_table
from recognizer.segment import Grid, crop_cells, cut_by_the_edge, find_grid, run_into_the_first_column
from recognizer.settings import ModelSettings, TableShape
from recognizer.table import Box, Cell, Table

DOUBTED_BELOW = 0.9  # a confidence under this is a mark the model does not know
UNREADABLE_SHARE = 0.5  # a picture most of whose marks are doubted is refused as no table
LABEL_RUN = 5  # leading values counting up one by one: header labels taken for data, not data
REPEATED = (6, 0.75)  # a first line of this many values or more, this share of them one value: a word read alike
SURE_LABELS = 6  # sure values whose last digits count from the first place: labels, however they step
CHIPS_AGREE = 0.9  # a table read again chip by chip agrees on this share of the cells both readings are sure of
MIN_CELLS = 4  # fewer found without a shape: bars or stems taken for text, far likelier than so small a table
AXES_FULL = 0.75  # an outer row and column this full of numbers ...
AXES_INSIDE = 1 / 3  # ... around an inside at most this full: a chart's axes (the gallery's tables: >= 2/3) ...
AXES_CELLS = 16  # ... in a table of this many cells or more
AXIS_TICKS = 7  # a last row or column of this many numbers in a row, evenly stepped, is an axis or labels
STRIP_TICKS = 5  # ... and a strip's of this many
LONE_WIDTH = 0.7  # a reading of two digits less wide than this * the table's readings of two (median) ...
LONE_SAMPLE = 8  # ... of this many or more, its ink parted by no clear column, is one glyph: a letter
LETTERS_LINE = (3, 1 / 4)  # a first line with this many marks, and this share of its marks, doubted or lone ...
LETTERS_APART = 8  # ... this many times the share of the rest of the table, is letters
UNLIKE_WINDOW = 5  # two model inputs read as one value that differ over this many pixels square ...
UNLIKE_INK = 0.4  # ... by this mean (of 1), a pixel's shift aside, ...
UNLIKE_NOISE = 3.0  # ... and this many times what the table's values differ by (median), hold two glyphs
_PIXEL = np.ones((3, 3), np.uint8)


class TableReader:
    """Reads table images with one loaded model. Create once per process (`from_settings`)."""

    def __init__(self, classifier, settings: ModelSettings, second=None):
        self.classifier = classifier
        self.settings = settings
        self.second = second  # the model's second opinion (MODEL.second.keras), or None

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> "TableReader":
        from recognizer.model import (  # the models load here, once per process
            load_classifier,
            second_opinion_path,
        )

        second = second_opinion_path(Path(settings.path))
        return cls(load_classifier(Path(settings.path)), settings, load_classifier(second) if second.is_file() else None)

    def read(self, image: np.ndarray, shape: TableShape | None = None, source: str = "", *,
             refuse_unreadable: bool = True) -> Table:
        """Read one table image. Refuses (SegmentationError) an image that is no table, and, unless
        `refuse_unreadable` is False (labelling a new look), one most of whose marks are unreadable."""
        image = self._check(image, source)
        try:
            grid, inputs, empty, odd = prepare(image, shape)
        except SegmentationError:
            # No grid of the text's marks: a table of chips, their rims' stripes taken for text? Read
            # chip by chip, if they lie on a lattice (of the shape, if given).
            luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            if (chips := find_chips(luma, shape or TableShape())) is None:
                raise
            table = self._read_chips(luma, chips, source, refuse_unreadable)
            if refuse_unreadable:
                check_not_axes(table)
            if refuse_unreadable and not (shape and shape.rows and shape.cols):
                check_no_header_left(table, shape)  # labels drawn as chips would be read as data
            return table
        rows, cols = grid.shape
        boxes = [grid.box(r, c) for r in range(rows) for c in range(cols)]
        cells = self._classify(inputs, empty, boxes, cols, odd)
        table = Table(rows, cols, tuple(cells), source=source, meta={"text_height": round(grid.text_height, 1)})
        check_is_table(table, refuse_unreadable)
        if refuse_unreadable:
            check_not_axes(table)
        # Labelling a new look (refuse_unreadable False), a person sees every cell: no guessing.
        if refuse_unreadable and (shape is None or shape.rows is None or shape.cols is None):
            try:
                check_no_header_left(table, shape, lone_glyphs(cells, inputs))
            except HeaderTakenForData as exc:
                # Row labels ("Round 1".."Round 10") read as a column of data: read again as if the shape
                # without them were given; whatever does not fit that shape is refused as before.
                if (retry := header_retry_shape(exc, table, shape)) is None:
                    # A first line of chips misread (a row label's number joined to each): where the
                    # picture is a lattice of chips of the found shape, their faces may read it.
                    checked = self._checked_by_chips(image, table, shape or TableShape()) if table.flagged else table
                    if "chips" not in checked.meta:
                        raise
                    check_no_header_left(checked, shape)
                    return checked
                try:
                    return self.read(image, retry, source)
                except SegmentationError:
                    raise exc from None
        if table.flagged:
            table = self._checked_by_chips(image, table, shape or TableShape())
        return table

    def _checked_by_chips(self, image: np.ndarray, table: Table, shape: TableShape) -> Table:
        """`table` read once more chip by chip, if its picture is a lattice of chips of its shape
        (`find_chips`) and the two agree on nearly every cell both are sure of: a cell the first reading
        flagged takes the second's where that one is sure (a chip's stripes beside its number are
        masked off there), and a cell both read surely but differently is flagged. Only where
        something was flagged: the circles cost more than the rest."""
        luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        chips = find_chips(luma, TableShape(rows=table.rows, cols=table.cols, skip_rows=shape.skip_rows,
                                            skip_cols=shape.skip_cols))
        if chips is None:
            return table
        other = self._read_chips(luma, chips, table.source, refuse_unreadable=False)
        both_sure = [(a.value, b.value) for a, b in zip(table, other) if not a.needs_review and not b.needs_review]
        if sum(a == b for a, b in both_sure) < CHIPS_AGREE * len(both_sure):
            # Circles of a lattice that are no chips (a hot/cold board's framed tiles at 11 px): the
            # two readings disagree all over, and the chips' is not taken for anything.
            return table
        cells, taken, disputed = [], 0, 0
        for first, second in zip(table, other):
            if first.needs_review and not second.needs_review:
                cells.append(second)
                taken += 1
            elif not first.needs_review and not second.needs_review and first.value != second.value:
                cells.append(replace(first, needs_review=True))
                disputed += 1
            else:
                cells.append(first)
        return replace(table, cells=tuple(cells), meta={**table.meta, "chips": {"taken": taken, "disputed": disputed}})

    def read_boxes(self, image: np.ndarray, boxes: Sequence[Box], shape: TableShape, source: str = "", *,
                   refuse_unreadable: bool = True) -> Table:
        """Read the cells at `boxes` (in any order; e.g. an HTML table's cells, from the page) as a
        `shape.rows` x `shape.cols` table: no segmentation, the same normalising, model and refusal
        rules as `read`. A box with no ink is an empty cell."""
        luma = cv2.cvtColor(self._check(image, source), cv2.COLOR_BGR2GRAY)
        if shape.rows is None or shape.cols is None:
            raise SegmentationError(f"{source or 'image'}: reading given cell boxes needs rows and cols")
        check_inside(boxes, *luma.shape, source or "the image")
        ordered = arrange(boxes, shape.rows, shape.cols, source or "the image")
        inputs, empty = normalize_batch(crop_boxes(luma, ordered), reading=True)
        cells = self._classify(inputs, empty, ordered, shape.cols)
        table = Table(shape.rows, shape.cols, tuple(cells), source=source, meta={"cell_boxes": "page"})
        check_is_table(table, refuse_unreadable)
        return table

    def _read_chips(self, luma: np.ndarray, chips: Chips, source: str, refuse_unreadable: bool) -> Table:
        """A table of chips (`find_chips`), each read on its face (`chip_crops`), with the same model
        and refusal rules as `read`."""
        faces = chip_crops(luma, chips)
        inputs, empty, odd = normalize_table(faces, faces_text_height(faces))
        boxes = [chips.box(i, *luma.shape) for i in range(chips.rows * chips.cols)]
        cells = self._classify(inputs, empty, boxes, chips.cols, odd)
        table = Table(chips.rows, chips.cols, tuple(cells), source=source, meta={"cell_boxes": "chips"})
        check_is_table(table, refuse_unreadable)
        return table

    def _classify(self, inputs: np.ndarray, empty: list[bool], boxes: Sequence[Box], cols: int,
                  odd: list[bool] | None = None) -> list[Cell]:
        """One model batch over the non-empty cells' `inputs` -> a Cell per box, row-major over `cols`.
        What is odd for a number (`odd`: cut short by an ellipsis, far less high than the table's other
        numbers, beside its ring's middle) is flagged whatever the model's confidence."""
        probs = self.classifier.predict_proba(inputs)
        index, conf = probs.argmax(axis=1), probs.max(axis=1)
        threshold = self.settings.review_threshold
        odd_k = np.array([bool(odd and odd[i]) for i, e in enumerate(empty) if not e], bool)
        if self.second is not None:
            # A second model, trained apart, is unsure elsewhere: a cell the first is unsure of is
            # taken where the second is sure of the same number (a look the first never saw, read
            # right but timidly). What is odd stays flagged, so it is not asked.
            if len(ask := np.flatnonzero((conf < threshold) & ~odd_k)):
                again = self.second.predict_proba(inputs[ask])
                sure = (again.argmax(axis=1) == index[ask]) & (again.max(axis=1) >= threshold)
                conf[ask[sure]] = again.max(axis=1)[sure]
        split = split_readings(inputs, index, (conf >= threshold) & ~odd_k)
        best = [index_to_value(i) for i in index.tolist()]
        conf = conf.tolist()
        cells, k = [], 0
        for i, (is_empty, box) in enumerate(zip(empty, boxes)):
            r, c = divmod(i, cols)
            if is_empty:
                cells.append(Cell(row=r, col=c, value=None, confidence=1.0, box=box))
            else:
                cells.append(Cell(row=r, col=c, value=best[k], confidence=conf[k], box=box,
                                  needs_review=conf[k] < threshold or bool(odd_k[k]) or bool(split[k])))
                k += 1
        return cells

    def _check(self, image: np.ndarray, source: str) -> np.ndarray:
        name = source or "image"
        if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
            raise InputImageError(f"{name}: expected a non-empty HxW or HxWxC image array")
        if image.shape[0] * image.shape[1] > self.settings.max_pixels:
            raise InputImageError(f"{name}: {image.shape[1]}x{image.shape[0]} pixels is over model.max_pixels")
        return to_bgr(image)


def doubted(cell: Cell) -> bool:
    """A mark the model does not know (a letter, a shape): what decides whether a picture is a table and
    where its header ends. Not `needs_review`, whose threshold is how cautious the reviewer is."""
    return cell.value is not None and cell.confidence < DOUBTED_BELOW


def check_is_table(table: Table, refuse_unreadable: bool = True) -> None:
    """Refuse what is no table of numbers: nothing read as a number, or most marks unreadable (a
    logo, a photo's texture, shapes). A table has a few doubtful cells, not a majority."""
    numbers = sum(c.value is not None for c in table)
    if numbers == 0:
        raise NotATableError("no numbers found: the image holds no table of numbers 0..36")
    doubtful = sum(doubted(c) for c in table)
    if refuse_unreadable and numbers >= 2 and doubtful > UNREADABLE_SHARE * numbers:
        raise NotATableError(
            f"not a table of numbers: {doubtful} of its {numbers} marks do not read as numbers "
            "0..36 (a photo, a logo or another look? see the README on fine-tuning)")


def check_not_axes(table: Table) -> None:
    """Refuse a chart: its tick labels line up as one outer column and one outer row of numbers, and
    what is between them (bars, lines, boxes) reads as few; or its last row or column steps evenly.
    Only for pictures: a page that gives the cells' boxes says it is a table, however it is filled."""
    grid = table.to_grid()
    rows, cols = table.rows, table.cols
    # A last row or column that steps evenly (0, 1, 2, ... or 0, 5, 10, ...) for AXIS_TICKS numbers in a row is
    # an axis under a heatmap (its later labels misread, maybe), or labels under a table. Data does so once in
    # 70,000,000 places (37 ** 5).
    # A strip (one row or column) that does so for STRIP_TICKS is one too: a chart's axis alone, its plot
    # beside it (37 ** 3 to one per place; none of the gallery's 128 strips).
    # So is a first column that steps down evenly (30, 25, 20, ...): a y axis at the left, whose numbers
    # fall down the picture; row labels count up (1, 2, 3), and are a header's, not an axis.
    ticks = AXIS_TICKS if rows > 1 and cols > 1 else STRIP_TICKS
    lines = [("last row", grid[-1], False), ("last column", [r[-1] for r in grid], False)]
    if rows > 1 and cols > 1:
        lines.append(("first column", [r[0] for r in grid], True))
    for what, line, falling in lines:
        placed = [(k, v) for k, v in enumerate(line) if v is not None]
        for start in range(len(placed) - ticks + 1):
            (k0, v0), (k1, v1) = placed[start:start + 2]
            step = (v1 - v0) / (k1 - k0)
            run = placed[start:start + ticks]
            if (step < 0 if falling else step) and all(v == v0 + step * (k - k0) for k, v in run):
                raise NotATableError(
                    f"no table found: its {what} counts {', '.join(str(v) for _, v in run[:3])}, ... as a "
                    "chart's axis does (if it is a table, that line is labels: crop them off)")
    if min(rows, cols) < 2 or rows * cols < AXES_CELLS:
        return
    filled = [[v is not None for v in row] for row in grid]
    total = sum(map(sum, filled))
    for c in (0, cols - 1):
        in_col = sum(filled[r][c] for r in range(rows))
        for r in (0, rows - 1):
            in_row, inside = sum(filled[r]), total - in_col - sum(filled[r]) + filled[r][c]
            if (in_col >= AXES_FULL * rows and in_row >= AXES_FULL * cols
                    and inside <= AXES_INSIDE * (rows - 1) * (cols - 1)):
                raise NotATableError(
                    f"no table found: its numbers line an outer row and column, {inside} between them, "
                    "as a chart's axes do")


def split_readings(inputs: np.ndarray, index: np.ndarray, sure: np.ndarray | None = None) -> np.ndarray:
    """Per model input, whether the `sure` inputs (all, if None) read as its value hold two unlike
    glyphs (a reading already flagged is left out: it is looked at anyway). One table's
    numbers are drawn in one font, so one value looks alike wherever it stands, give or take a pixel
    and JPEG's noise, while a digit the model misreads in a font it never saw (a 5 read 8, a 14 read
    4) is read as a value the table also holds in its true shape. Two such inputs differ by
    UNLIKE_INK or more over a patch of UNLIKE_WINDOW pixels (a stroke that one has and the other
    not), and by far more than the table's other values' readings differ among themselves
    (UNLIKE_NOISE): none of that value's readings can be trusted."""
    n = len(inputs)
    sure = np.ones(n, bool) if sure is None else sure
    i, j = np.nonzero(np.triu((index[:, None] == index[None, :]) & sure[:, None] & sure[None, :], 1))
    if len(i) == 0:
        return np.zeros(n, bool)
    size = inputs.shape[1]
    patch = unlike_patches(inputs.reshape(n, size, size), i, j)
    spread = np.zeros(int(index.max()) + 1)
    np.maximum.at(spread, index[i], patch)
    paired = np.bincount(index[i], minlength=len(spread)) > 0
    # JPEG at small sizes makes one value's readings differ a little everywhere: a split stands out.
    split = paired & (spread >= max(UNLIKE_INK, UNLIKE_NOISE * median(spread[paired])))
    return split[index] & sure


def unlike_patches(inputs: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per pair (i, j) of (N, S, S) inputs: the largest mean, over an UNLIKE_WINDOW patch, of the ink
    either has a pixel or more from any of the other's (its strokes dilated by a pixel: a pixel's
    shift, JPEG's ringing and a stroke's weight hardly count, a stroke one has and the other not
    does). On 8 bits: a table's few hundred pairs cost a fraction of a millisecond."""
    n, size, _ = inputs.shape
    # Side by side, one input's rows down each column (OpenCV's filters pay per row): inputs have
    # blank margins wider than the filters reach, so none takes in its neighbour's ink.
    ink = np.ascontiguousarray(cv2.convertScaleAbs(inputs.reshape(n * size, size), alpha=255).T)
    near = cv2.dilate(ink, _PIXEL).reshape(size, n, size)
    ink = ink.reshape(size, n, size)
    first, second = (np.take(ink, k, axis=1).reshape(size, -1) for k in (i, j))  # take: fancy indexing is slower
    beyond = cv2.max(cv2.subtract(first, np.take(near, j, axis=1).reshape(size, -1)),
                     cv2.subtract(second, np.take(near, i, axis=1).reshape(size, -1)))
    patches = cv2.blur(beyond, (UNLIKE_WINDOW, UNLIKE_WINDOW))
    return patches.max(axis=0).reshape(len(i), size).max(axis=1) / 255.0


def lone_glyphs(cells: Sequence[Cell], inputs: np.ndarray) -> list[bool]:
    """Per cell: whether it was read as two digits where its ink is one glyph (`ink_shapes`: less wide
    than the table's other readings of two, LONE_WIDTH, and parted by no clear column), as a letter
    is ("A", "H", "K" read 14, 14, 18, surely). `inputs` are the model inputs of the non-empty cells."""
    aspect, parted = ink_shapes(inputs)
    read = [c for c in cells if c.value is not None]
    two = np.array([c.value >= 10 for c in read], bool)
    if np.count_nonzero(two) < LONE_SAMPLE:
        return [False] * len(cells)
    lone = iter((two & ~parted & (aspect < LONE_WIDTH * np.median(aspect[two]))).tolist())
    return [c.value is not None and next(lone) for c in cells]


def check_no_header_left(table: Table, shape: TableShape | None = None, lone: Sequence[bool] | None = None) -> None:
    """Without a shape the header is found from the layout alone. One of the first two data rows
    or columns that counts 1, 2, 3, ..., repeats one value (a word read alike in every row), is
    mostly unreadable (words, letters), or has far more marks unlike numbers than the rest of the
    table (doubted, or one glyph read as two digits, `lone` per cell: letters) is a header taken
    for data, and every value would shift: refused, never read. So is a "table" of fewer than
    MIN_CELLS cells."""
    if table.rows * table.cols < MIN_CELLS:  # a strip whose numbers ran together, a chart's bars, a lone mark
        raise SegmentationError(f"found {table.rows}x{table.cols} cells only: pass --rows/--cols, or rows/cols in "
                                "the table's config, to read a strip or a table of that shape")
    grid = table.to_grid()
    shape = shape or TableShape()
    for what, skip, first in (("row", shape.skip_rows, grid[0]), ("column", shape.skip_cols, [r[0] for r in grid])):
        # Right after the header, a line with nothing in it: the header's leftover, or real? Either
        # way the other lines might be shifted by one.
        if skip and len(grid) > 1 and len(grid[0]) > 1 and all(v is None for v in first):
            raise HeaderTakenForData(
                f"data {what} 1 is empty right after the header: is it part of the header? pass --rows/--cols "
                "(and --skip-rows/--skip-cols), or rows/cols in the table's config", what, 0, False)
    cols = table.cols
    doubts = [doubted(c) for c in table]  # row-major, as `lone`
    lone = lone or [False] * len(doubts)
    # The rest of the table, a line is measured against, leaves out the first row and column: the
    # other one may be a header of letters too (letters over the columns and beside the rows).
    body = [c.row > 0 and c.col > 0 and c.value is not None for c in table]
    lines = [("row", i, grid[i], doubts[i * cols:(i + 1) * cols], lone[i * cols:(i + 1) * cols])
             for i in range(min(2, table.rows))]
    lines += [("column", j, [r[j] for r in grid], doubts[j::cols], lone[j::cols]) for j in range(min(2, cols))]
    for what, index, line, flags, letters in lines:
        values = [v for v in line if v is not None]
        if len(values) < 3:
            continue
        counting = values[0] in (0, 1) and values == list(range(values[0], values[0] + len(values)))
        # Labels ("Round 1".."Round 4") whose word's last letter joins the number ("d1" read 21): the last
        # digits still count. By chance, 4 values in a row do so once in a thousand lines; 8, never.
        last_digits = [v % 10 for v in values]
        counting |= len(values) >= 4 and last_digits == [(last_digits[0] + k) % 10 for k in range(len(values))] \
            and labels_step(list(enumerate(values)))
        # ... and so they do where one of them was misread, doubtfully ("Round 1"'s "d1" read 12 at 0.58):
        # the sure ones, each at its own place.
        sure = [(k, v) for k, (v, doubt) in enumerate(zip(line, flags)) if v is not None and not doubt]
        # Six or more sure ones need not step as labels do: "Round 2" read 12 beside "Round 1" read 1 (the
        # word's last letter joined to some numbers, not all); by chance, one line in 100,000 does so.
        counting |= len(sure) >= 4 and len({(v - k) % 10 for k, v in sure}) == 1 and (
            len(sure) >= SURE_LABELS or labels_step(sure))
        # ... and so do labels ("S1".."S12", the "S" read as a 3) whose later ones were misread: a run of
        # LABEL_RUN values in a row, each one more than the last, from the first. Data does so once in
        # a million lines.
        run = next((k for k in range(1, len(values)) if values[k] != values[k - 1] + 1), len(values))
        counting |= run >= LABEL_RUN
        # A word read alike in most cells ("Spin 3" as 24, "Spin 7" as 4): numbers drawn from 37 hold one
        # value in 5 of 6 places once in 300,000 lines, in 12 of 15 never.
        repeated = len(set(values)) == 1 or (
            len(values) >= REPEATED[0] and max(map(values.count, values)) >= REPEATED[1] * len(values))
        if counting or repeated or sum(flags) * 2 > len(values):
            raise HeaderTakenForData(
                f"data {what} {index + 1} looks like header labels ({', '.join(map(str, values[:4]))}, ...), "
                "not data: pass --rows/--cols (and --skip-rows/--skip-cols), or rows/cols in the table's config",
                what, index, counting)
        # Letters read as numbers: a share of the line's marks doubted or one glyph read as two digits
        # (`lone`), far above the rest of the table's. Serif letters read as single digits (B, E, R as 8)
        # look like numbers; the rest of the row's letters do not.
        odd = sum(d or g for d, g in zip(flags, letters))
        rest = [k for k, c in enumerate(table) if body[k] and (c.row if what == "row" else c.col) != index]
        odd_rest = sum(doubts[k] or lone[k] for k in rest)
        if odd >= max(LETTERS_LINE[0], LETTERS_LINE[1] * len(values)) and \
                odd / len(values) >= LETTERS_APART * odd_rest / max(1, len(rest)):
            raise HeaderTakenForData(
                f"data {what} {index + 1} looks like header labels ({odd} of its {len(values)} marks read as "
                "numbers are unlike the table's): pass --rows/--cols (and --skip-rows/--skip-cols), or rows/cols "
                "in the table's config", what, index, False)


def labels_step(placed: list[tuple[int, int]]) -> bool:
    """Whether values at their places (`(place, value)`, in order) whose last digits count step as labels
    do: one more per place, the word's letter read as the same tens digit, except where the units
    wrap past 9 ("d9" read 29, then "10"). Data whose last digits count by chance (18, 19, 0, 31: one
    line in a thousand of four) does not."""
    return all(v - u == k - j or u % 10 + k - j >= 10 for (j, u), (k, v) in zip(placed, placed[1:]))


def header_retry_shape(exc: HeaderTakenForData, table: Table, shape: TableShape | None) -> TableShape | None:
    """The shape to read a table again with when its first data row or column counted 1, 2, 3 where a
    header was expected (`skip_rows`/`skip_cols`): the found shape less that line, so that the header is
    found from the data's own pitch, as with the shape given. None when that cannot be: the line did not
    count (a word read alike in every row may stand for more than one column; an unreadable line may be
    data of a look the model does not know), was not the first, or no header was expected there (then
    the table is refused). Measured: retrying on a repeated word too shifted hundreds of cells."""
    shape = shape or TableShape()
    skip = shape.skip_rows if exc.line == "row" else shape.skip_cols
    if not exc.counting or exc.index != 0 or skip < 1:
        return None
    grid = table.to_grid()
    lines = grid if exc.line == "row" else [list(c) for c in zip(*grid)]
    empty_after = next((k for k, line in enumerate(lines[1:]) if any(v is not None for v in line)), 0)
    drop = 1 + empty_after  # and the empty lines segmentation filled in between the labels and the data
    rows, cols = table.rows - drop * (exc.line == "row"), table.cols - drop * (exc.line == "column")
    if rows < 1 or cols < 1:
        return None
    return TableShape(rows=rows, cols=cols, skip_rows=shape.skip_rows, skip_cols=shape.skip_cols)


def prepare(image: np.ndarray, shape: TableShape | None = None) -> tuple[Grid, np.ndarray, list[bool], list[bool]]:
    """BGR table image -> its grid, the model inputs of its non-empty cells, an is-empty flag and an
    is-odd flag per cell (`normalize_table`). Everything works on luminance: converted once here, a
    third of the pixels."""
    luma = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grid = find_grid(luma, shape)
    inputs, empty, odd = normalize_table(crop_cells(luma, grid), grid.text_height)
    cut = cut_by_the_edge(luma, grid) | run_into_the_first_column(luma, grid)
    return grid, inputs, empty, [o or bool(k) for o, k in zip(odd, cut)]


@functools.lru_cache(maxsize=1)
def default_reader() -> TableReader:
    return TableReader.from_settings(ModelSettings())
