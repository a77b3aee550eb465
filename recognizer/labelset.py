"""The labelled-cells folder, defined once: `DIR/labels.csv` plus `DIR/cells/<id>.png`.

The review tool (`robot.review.store`) and `recognizer generate --as-labels` write it;
`recognizer finetune` and `evaluate --labels` read it (`recognizer.training.labelled`).

labels.csv has exactly the header `id,label,image,source,labelled_at`:
- id: unique in the file; the review tool uses a stable hash of the source (`label_id`), so
  labelling a cell again updates its row, never adds one;
- label: a whole number 0..36 in ASCII digits without leading zeros, or the literal `not_a_number`;
- image: the raw BGR cell crop (not normalised) as PNG, `cells/<id>.png`, relative to DIR;
- source: where the cell came from, `run:<run_id>/<page>__<table>:<row>,<col>`,
  `image:<file>:<row>,<col>`, `collection:<name>@<sha256, 16 hex>:<row>,<col>` (a picture of a
  `recognizer read` folder, by content: two collections' `t.png` never share a label), or the
  generator's source (`fonts`, `mnist`);
- labelled_at: UTC, `tablebot.clock.utc_iso`.

Writers write each cell image first and the whole CSV last, each atomically (temp file, then
rename): stopping at any moment leaves every label already saved in place, and no row points
at a missing image.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable

import numpy as np

from recognizer.imageio import encode_png
from recognizer.labels import MAX_VALUE, MIN_VALUE, parse_label
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
    """A label that is not 0..36 or not_a_number (the message says what is allowed)."""


@dataclass(frozen=True)
class LabelRecord:
    id: str
    label: Label
    image: str  # relative to the labels folder
    source: str
    labelled_at: str

    @property
    def is_number(self) -> bool:
        return self.label != NOT_A_NUMBER


def check_label(text: str) -> Label:
    """What a person typed (or a CSV holds) -> a label, or BadLabel with a message that says what to type."""
    if text.strip() == NOT_A_NUMBER:
        return NOT_A_NUMBER
    if not text.strip():
        raise BadLabel(f"type a number from {MIN_VALUE} to {MAX_VALUE} (or mark the cell 'not a number')")
    try:
        return parse_label(text)
    except ValueError:
        raise BadLabel(f"{text.strip()[:20]!r} is not a number from {MIN_VALUE} to {MAX_VALUE}: nothing was saved") from None


def label_id(source: str) -> str:
    """The stable id of a cell from its source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


def run_source(run_id: str, stem: str, row: int, col: int) -> str:
    return f"run:{run_id}/{stem}:{row},{col}"


def image_source(file: str, row: int, col: int) -> str:
    return f"image:{file}:{row},{col}"


def collection_source(name: str, sha256: str, row: int, col: int) -> str:
    return f"collection:{name}@{sha256[:ID_HEX_DIGITS]}:{row},{col}"


def read_labels(stream: IO[str], name: str = LABELS_FILE) -> list[LabelRecord]:
    """Parse labels.csv from `stream` (`name` is used in messages); an empty stream has no records.

    A wrong header or a bad label raises DataError naming the file, the line and what is expected.
    """
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        return []
    if tuple(reader.fieldnames) != FIELDS:
        raise DataError(f"{name}: the header must be {','.join(FIELDS)}, got {','.join(reader.fieldnames)}")
    records = []
    for line, row in enumerate(reader, start=2):
        text = row["label"] or ""
        try:
            label = check_label(text)
        except BadLabel:
            raise DataError(
                f"{name} line {line} (id {row['id']!r}): unknown label {text.strip()[:20]!r}; "
                f"use a number {MIN_VALUE}..{MAX_VALUE} or {NOT_A_NUMBER}; fix or delete that line"
            ) from None
        records.append(LabelRecord(row["id"], label, row["image"] or "", row["source"] or "", row["labelled_at"] or ""))
    return records


def write_labels(records: Iterable[LabelRecord], stream: IO[str]) -> None:
    """The inverse of `read_labels`."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in records:
        writer.writerow([r.id, r.label, r.image, r.source, r.labelled_at])


def save_labels(folder: Path, records: Iterable[LabelRecord]) -> None:
    """Replace `folder`/labels.csv with `records`, atomically."""
    buffer = io.StringIO()
    write_labels(records, buffer)
    with atomic_open(Path(folder) / LABELS_FILE) as f:
        f.write(buffer.getvalue())


def write_cell(folder: Path, record_id: str, crop: np.ndarray, label: Label, source: str,
               labelled_at: str | None = None) -> LabelRecord:
    """Write the cell image `cells/<id>.png` atomically and return its record (for `save_labels`)."""
    image = f"{CELLS_DIR}/{record_id}.png"
    try:
        png = encode_png(crop)
    except ValueError:
        raise OutputError(f"cannot encode the cell image of {source} as PNG") from None
    write_bytes_atomic(Path(folder) / image, png)
    return LabelRecord(record_id, label, image, source, labelled_at or utc_iso())
