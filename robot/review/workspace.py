"""What the review pages work on: the tables, the queue of cells to label, and the label actions.

A table comes from a harvest run (its flagged cells form the default queue, and an answer
also corrects the run's CSVs), from a `recognizer read` folder (`--collection`: its flagged
cells, least confident first, and an answer also corrects its cells.csv) or from an image
folder (`--images`, every non-empty cell is queued). Every action goes to disk before it
returns; the undo stack and the skipped set live only as long as the process.
"""
from __future__ import annotations

import enum
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from recognizer import collection
from recognizer.imageio import read_image
from recognizer.labelset import (
    NOT_A_NUMBER,
    Label,
    LabelRecord,
    check_label,
    collection_source,
    image_source,
    label_id,
    run_source,
)
from recognizer.table import Cell, Table
from robot.review.pictures import context_view, crop_box
from robot.review.store import LabelStore
from robot.runfolder import RunTable, correct_cell, read_table

log = logging.getLogger(__name__)

IMAGE_CACHE_SIZE = 4  # decoded screenshots kept in memory (cells are cropped on demand)


class DocKind(str, enum.Enum):
    RUN = "run"  # a harvest run's table: answers also correct its CSVs
    IMAGE = "image"  # a table image from --images: answers go to the dataset only
    COLLECTION = "collection"  # a picture of a `recognizer read` folder: answers also correct its cells.csv


class UnknownCell(LookupError):
    """A cell id or table key the workspace does not have (a stale page, or a made-up URL)."""


@dataclass
class TableDoc:
    key: str  # stable, URL-safe
    kind: DocKind
    title: str
    image_path: Path
    table: Table
    name: str  # run: "<run_id>/<page>__<table>"; image: file name inside the --images folder; collection: its source
    run: RunTable | None = None
    collection: Path | None = None  # the `recognizer read` folder the table belongs to
    sha256: str = ""  # collection: the picture's content hash

    def source(self, row: int, col: int) -> str:
        if self.run is not None:
            return run_source(self.run.run_id, self.run.stem, row, col)
        if self.collection is not None:
            return collection_source(self.name, self.sha256, row, col)
        return image_source(self.name, row, col)


def run_doc(rt: RunTable) -> TableDoc:
    name = f"{rt.run_id}/{rt.stem}"
    return TableDoc(label_id(f"run:{name}"), DocKind.RUN, f"{rt.stem} · run {rt.run_id}", rt.png_path, read_table(rt), name, rt)


def image_doc(image_path: Path, name: str, table: Table) -> TableDoc:
    return TableDoc(label_id(f"image:{name}"), DocKind.IMAGE, name, image_path, table, name)


def collection_doc(folder: Path, picture: collection.Picture) -> TableDoc:
    return TableDoc(label_id(f"collection:{picture.name}@{picture.sha256}"), DocKind.COLLECTION, picture.name,
                    picture.path, picture.table, picture.name, collection=folder, sha256=picture.sha256)


@dataclass(frozen=True)
class Item:
    """One cell that can be labelled."""

    id: str  # = the dataset id: a hash of the source
    doc_key: str
    row: int
    col: int
    source: str
    guess: int | None
    confidence: float
    needs_review: bool


@dataclass(frozen=True)
class ReviewProgress:
    done: int
    left: int
    skipped: int

    @property
    def total(self) -> int:
        return self.done + self.left


@dataclass(frozen=True)
class _UndoStep:
    item_id: str
    previous_record: LabelRecord | None
    previous_cell: Cell


@dataclass
class _State:
    docs: dict[str, TableDoc] = field(default_factory=dict)
    cells: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # item id -> (doc key, row, col)
    queue: list[str] = field(default_factory=list)


def cell_value(label: Label) -> int | None:
    return None if label == NOT_A_NUMBER else label  # type: ignore[return-value]


class Workspace:
    """Thread-safe: the web server calls it from several threads, one lock serialises everything."""

    def __init__(self, store: LabelStore, load_docs: Callable[[], list[TableDoc]], max_pixels: int):
        self.store = store
        self._load_docs = load_docs
        self._max_pixels = max_pixels
        self._lock = threading.RLock()
        self._undo: list[_UndoStep] = []
        self._skipped: set[str] = set()
        self._images: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._state = _State()
        self.rescan()

    # -- building -------------------------------------------------------------------------------

    def rescan(self) -> None:
        """(Re)load the tables and rebuild the queue; labels already on disk are re-applied to runs."""
        with self._lock:
            state = _State()
            order: dict[str, float] = {}
            for doc in self._load_docs():
                state.docs[doc.key] = doc
                for c in doc.table:
                    item_id = label_id(doc.source(c.row, c.col))
                    state.cells[item_id] = (doc.key, c.row, c.col)
                    record = self.store.get(item_id)
                    if record is not None:
                        self._apply_known(doc, c, record.label)
                    if self._queued(doc, c, record is not None):
                        state.queue.append(item_id)
                        order[item_id] = self._rank(doc, c)
            state.queue.sort(key=order.__getitem__)  # stable: equal ranks keep table and cell order
            self._state = state
            self._images.clear()

    @staticmethod
    def _queued(doc: TableDoc, cell: Cell, labelled: bool) -> bool:
        if labelled:
            return True
        return cell.value is not None if doc.kind is DocKind.IMAGE else cell.needs_review

    @staticmethod
    def _rank(doc: TableDoc, cell: Cell) -> float:
        """Queue order: a collection's cells least confident first (across its pictures), the others as found."""
        return cell.confidence if doc.kind is DocKind.COLLECTION else 0.0

    def _apply_known(self, doc: TableDoc, cell: Cell, label: Label) -> None:
        """A saved label whose run files do not show it yet (the tool was stopped mid-write): finish the write."""
        value = cell_value(label)
        if cell.value == value and cell.confirmed and not cell.needs_review:
            return
        if doc.kind is DocKind.RUN:
            log.info("re-applying the saved label of %s", doc.source(cell.row, cell.col))
        self._set_cell(doc, replace(cell, value=value, confirmed=True, needs_review=False))

    # -- reading --------------------------------------------------------------------------------

    def docs(self) -> list[TableDoc]:
        with self._lock:
            return list(self._state.docs.values())

    def doc(self, key: str) -> TableDoc:
        with self._lock:
            try:
                return self._state.docs[key]
            except KeyError:
                raise UnknownCell(f"no table {key!r}: it may have been removed; reload the table list") from None

    def item(self, item_id: str) -> Item:
        with self._lock:
            try:
                doc_key, row, col = self._state.cells[item_id]
            except KeyError:
                raise UnknownCell(f"no cell {item_id!r} in the tables being reviewed; reload the page") from None
            doc = self._state.docs[doc_key]
            c = doc.table.cell(row, col)
            return Item(item_id, doc_key, row, col, doc.source(row, col), c.value, c.confidence, c.needs_review)

    def item_at(self, doc_key: str, row: int, col: int) -> Item:
        doc = self.doc(doc_key)
        if not (0 <= row < doc.table.rows and 0 <= col < doc.table.cols):
            raise UnknownCell(f"no cell ({row}, {col}) in {doc.title}")
        return self.item(label_id(doc.source(row, col)))

    def progress(self) -> ReviewProgress:
        with self._lock:
            done = sum(1 for i in self._state.queue if i in self.store)
            skipped = sum(1 for i in self._state.queue if i in self._skipped and i not in self.store)
            return ReviewProgress(done, len(self._state.queue) - done, skipped)

    def current(self, focus: str | None = None) -> Item | None:
        """The cell to show: `focus` if it is a known cell, else the first queued cell neither labelled nor skipped."""
        with self._lock:
            if focus and focus in self._state.cells:
                return self.item(focus)
            for item_id in self._state.queue:
                if item_id not in self.store and item_id not in self._skipped:
                    return self.item(item_id)
            return None

    def upcoming(self, after: Item | None, count: int) -> list[Item]:
        with self._lock:
            ids = [i for i in self._state.queue if i not in self.store and i not in self._skipped]
            if after is not None and after.id in ids:
                ids = ids[ids.index(after.id) + 1 :]
            return [self.item(i) for i in ids[:count]]

    def label_of(self, item_id: str) -> LabelRecord | None:
        with self._lock:
            return self.store.get(item_id)

    def can_undo(self) -> bool:
        with self._lock:
            return bool(self._undo)

    def crop(self, item_id: str, context: bool = False) -> np.ndarray:
        item = self.item(item_id)
        doc = self.doc(item.doc_key)
        image = self._image(doc.image_path)
        box = doc.table.cell(item.row, item.col).box
        return context_view(image, box) if context else crop_box(image, box)

    def screenshot_size(self, doc_key: str) -> tuple[int, int]:
        h, w = self._image(self.doc(doc_key).image_path).shape[:2]
        return w, h

    def _image(self, path: Path) -> np.ndarray:
        with self._lock:
            if path in self._images:
                self._images.move_to_end(path)
                return self._images[path]
            image = read_image(path, self._max_pixels)
            self._images[path] = image
            while len(self._images) > IMAGE_CACHE_SIZE:
                self._images.popitem(last=False)
            return image

    # -- actions --------------------------------------------------------------------------------

    def label(self, item_id: str, text: str) -> LabelRecord:
        """Save what a person typed for a cell. A bad label raises BadLabel and changes nothing."""
        label = check_label(text)
        with self._lock:
            item = self.item(item_id)
            doc = self.doc(item.doc_key)
            cell = doc.table.cell(item.row, item.col)
            crop = self.crop(item_id)
            previous = self.store.get(item_id)
            if doc.collection is not None:  # a read running there: refuse before anything is saved
                collection.check_free(doc.collection, "save this label again")
            # The dataset first: if the tool stops before the run files are written, the next start finishes them.
            record = self.store.put(item.source, crop, label)
            self._set_cell(doc, replace(cell, value=cell_value(label), confirmed=True, needs_review=False))
            self._undo.append(_UndoStep(item_id, previous, cell))
            self._skipped.discard(item_id)
            return record

    def skip(self, item_id: str) -> None:
        with self._lock:
            self.item(item_id)
            self._skipped.add(item_id)

    def revisit_skipped(self) -> None:
        with self._lock:
            self._skipped.clear()

    def undo(self) -> Item | None:
        """Take back the last label of this session: the run files first, then the dataset row."""
        with self._lock:
            if not self._undo:
                return None
            step = self._undo[-1]  # popped once undone: a refused undo (a read running) can be tried again
            where = self._state.cells.get(step.item_id)  # None: its table went away in a rescan
            if where is not None:
                self._set_cell(self._state.docs[where[0]], step.previous_cell)
            self.store.restore(step.item_id, step.previous_record)
            self._undo.pop()
            return self.item(step.item_id) if where is not None else None

    def _set_cell(self, doc: TableDoc, cell: Cell) -> None:
        if doc.run is not None:
            doc.table = correct_cell(doc.run, cell.row, cell.col, cell.value, cell.needs_review, cell.confirmed)
        elif doc.collection is not None:
            collection.correct_cell(doc.collection, doc.name, cell)
            doc.table = doc.table.with_cell(cell)
        else:
            doc.table = doc.table.with_cell(cell)
