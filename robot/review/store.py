"""The labels dataset that `recognizer finetune` reads: `DIR/labels.csv` plus `DIR/cells/<id>.png`.

labels.csv has the header `id,label,image,source,labelled_at`:
- id: a stable hash of the source, so labelling a cell again updates its row, never adds one;
- label: a whole number 0..36, or the literal `not_a_number`;
- image: the raw BGR cell crop (not normalised), relative to DIR;
- source: where the cell came from, `run:<run_id>/<page>__<table>:<row>,<col>` or `image:<file>:<row>,<col>`;
- labelled_at: UTC, ISO-8601.

Every change writes the cell image first and then the whole CSV, each atomically (temp file,
then rename): stopping the tool at any moment leaves every saved label in place.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable

import cv2
import numpy as np

from recognizer.labels import CLASSES, MAX_VALUE, MIN_VALUE, parse_label
from tablebot.clock import utc_iso
from tablebot.errors import DataError, OutputError
from tablebot.files import atomic_open, write_bytes_atomic

LABELS_FILE = "labels.csv"
CELLS_DIR = "cells"
FIELDS = ("id", "label", "image", "source", "labelled_at")
NOT_A_NUMBER = "not_a_number"
ID_HEX_DIGITS = 16  # 64 bits of sha256: no collision in any labelled set a person can make

Label = int | str  # 0..36, or NOT_A_NUMBER


class BadLabel(ValueError):
    """A label a person typed that is not 0..36 (the message says what is allowed)."""


def check_label(text: str) -> Label:
    """What a person typed -> a label, or BadLabel with a message that says what to type."""
    if text.strip() == NOT_A_NUMBER:
        return NOT_A_NUMBER
    if not text.strip():
        raise BadLabel(f"type a number from {MIN_VALUE} to {MAX_VALUE} (or mark the cell 'not a number')")
    try:
        return parse_label(text)
    except ValueError:
        raise BadLabel(f"{text.strip()[:20]!r} is not a number from {MIN_VALUE} to {MAX_VALUE}: nothing was saved") from None


def label_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


def run_source(run_id: str, stem: str, row: int, col: int) -> str:
    return f"run:{run_id}/{stem}:{row},{col}"


def image_source(file: str, row: int, col: int) -> str:
    return f"image:{file}:{row},{col}"


@dataclass(frozen=True)
class LabelRecord:
    id: str
    label: Label
    image: str  # relative to the labels folder
    source: str
    labelled_at: str


def read_labels(stream: IO[str], name: str = LABELS_FILE) -> list[LabelRecord]:
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        return []
    if tuple(reader.fieldnames) != FIELDS:
        raise DataError(f"{name}: header must be {','.join(FIELDS)}, got {','.join(reader.fieldnames)}")
    records = []
    for line, row in enumerate(reader, start=2):
        try:
            label = check_label(row["label"] or "")
        except BadLabel as exc:
            raise DataError(f"{name} line {line}: {exc}; fix or delete that line") from None
        records.append(LabelRecord(row["id"], label, row["image"], row["source"], row["labelled_at"]))
    return records


def write_labels(records: Iterable[LabelRecord], stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in records:
        writer.writerow([r.id, r.label, r.image, r.source, r.labelled_at])


def class_counts(records: Iterable[LabelRecord]) -> dict[Label, int]:
    """Labelled cells per class, every class present (0 when none), NOT_A_NUMBER last."""
    counts = Counter(r.label for r in records)
    return {**{v: counts.get(v, 0) for v in CLASSES}, NOT_A_NUMBER: counts.get(NOT_A_NUMBER, 0)}


class LabelStore:
    """labels.csv and its cell images, kept in memory in file order and rewritten on every change.

    Not thread-safe on its own: the review workspace serialises calls.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.csv_path = self.folder / LABELS_FILE
        self._records: dict[str, LabelRecord] = {}
        if self.csv_path.exists():
            try:
                with open(self.csv_path, encoding="utf-8", newline="") as f:
                    self._records = {r.id: r for r in read_labels(f, str(self.csv_path))}
            except OSError as exc:
                raise DataError(f"cannot read {self.csv_path}: {exc.strerror}") from None

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._records

    def get(self, record_id: str) -> LabelRecord | None:
        return self._records.get(record_id)

    def records(self) -> list[LabelRecord]:
        return list(self._records.values())

    def recent(self, count: int) -> list[LabelRecord]:
        # Newest first; on equal times the later row in the file wins.
        return sorted(reversed(self._records.values()), key=lambda r: r.labelled_at, reverse=True)[:count]

    def image_path(self, record: LabelRecord) -> Path:
        return self.folder / record.image

    def put(self, source: str, crop: np.ndarray, label: Label, labelled_at: str | None = None) -> LabelRecord:
        """Save (or update) the label of one cell: its image first, then the CSV."""
        record_id = label_id(source)
        image = f"{CELLS_DIR}/{record_id}.png"
        ok, png = cv2.imencode(".png", crop)
        if not ok:
            raise OutputError(f"cannot encode the cell image of {source} as PNG")
        write_bytes_atomic(self.folder / image, png.tobytes())
        record = LabelRecord(record_id, label, image, source, labelled_at or utc_iso())
        self._save({**self._records, record_id: record})
        return record

    def restore(self, record_id: str, previous: LabelRecord | None) -> None:
        """Undo: put back the record as it was, or remove it (and its image) if there was none."""
        if previous is not None:
            self._save({**self._records, record_id: previous})
            return
        removed = self._records.get(record_id)
        self._save({k: v for k, v in self._records.items() if k != record_id})
        if removed is not None:
            self.image_path(removed).unlink(missing_ok=True)

    def _save(self, records: dict[str, LabelRecord]) -> None:
        buffer = io.StringIO()
        write_labels(records.values(), buffer)
        with atomic_open(self.csv_path) as f:
            f.write(buffer.getvalue())
        self._records = records
