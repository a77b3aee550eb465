"""Labelled real cells for finetune/evaluate: a labelled-cells folder (`recognizer.labelset`), normalised.

`not_a_number` rows are skipped. Every row is checked, and every number cell's image found,
before any image is read, so a typo fails fast.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognizer.labelset import LABELS_FILE, LabelRecord, read_labels
from recognizer.normalize import normalize_cell
from tablebot.errors import DataError

log = logging.getLogger("tablebot.training")


@dataclass
class LabelledCells:
    """Normalised labelled cells, ready for a model."""

    x: np.ndarray  # uint8 (N, 28, 28), like a generated dataset
    y: np.ndarray  # int (N,)
    ids: list[str]
    raws: list[np.ndarray]  # the BGR crops, for mistake grids
    skipped_empty: list[str]  # ids of number cells the normaliser found empty

    def inputs(self) -> np.ndarray:
        return (self.x.astype(np.float32) / 255.0)[..., None]


def read_label_rows(folder: Path) -> list[LabelRecord]:
    """Parse and check DIR/labels.csv for training; a bad row raises DataError naming it."""
    folder = Path(folder)
    csv_path = folder / LABELS_FILE
    if not csv_path.is_file():
        raise DataError(f"{csv_path} not found: point --labels at a folder written by the review tool")
    with csv_path.open(newline="", encoding="utf-8") as f:
        records = read_labels(f, str(csv_path))
    for line, record in enumerate(records, start=2):
        if record.is_number and not (folder / record.image).is_file():
            raise DataError(f"{csv_path} line {line} (id {record.id!r}): image {record.image!r} not found in {folder}")
    if not any(r.is_number for r in records):
        raise DataError(f"{csv_path} has no cells labelled with a number: label some cells first")
    return records


def load_labelled(folder: Path) -> LabelledCells:
    """Read, check and normalise every number cell of a labels folder (not_a_number rows are skipped)."""
    folder = Path(folder)
    records = [r for r in read_label_rows(folder) if r.is_number]
    xs, ys, ids, raws, empty = [], [], [], [], []
    for record in records:
        path = folder / record.image
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise DataError(f"{path.resolve()} (id {record.id!r}) is not a readable image: relabel or remove that row")
        norm = normalize_cell(img)
        if norm is None:
            empty.append(record.id)
            continue
        xs.append(np.rint(norm * 255).astype(np.uint8))
        ys.append(record.label)
        ids.append(record.id)
        raws.append(img)
    if empty:
        log.warning("%d labelled number cell(s) look empty to the normaliser and are skipped: %s",
                    len(empty), ", ".join(empty[:10]) + (" ..." if len(empty) > 10 else ""))
    if not xs:
        raise DataError(f"no usable labelled cells in {folder}: every number cell normalised to empty")
    return LabelledCells(np.stack(xs), np.array(ys, np.int64), ids, raws, empty)
