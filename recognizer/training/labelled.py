"""Labelled real cells: the folder the review tool writes and finetune/evaluate read.

DIR/labels.csv has the header `id,label,image,source,labelled_at`; `image` is a path relative
to DIR of a raw BGR cell crop (not normalised); `label` is a number 0..36 or `not_a_number`
(skipped here). Every row is checked before any image is read, so a typo fails fast.
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from recognizer.labels import parse_label
from recognizer.normalize import normalize_cell
from tablebot.clock import utc_iso
from tablebot.errors import DataError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger("tablebot.training")

LABELS_FILE = "labels.csv"
HEADER = ("id", "label", "image", "source", "labelled_at")
NOT_A_NUMBER = "not_a_number"


@dataclass(frozen=True)
class LabelRow:
    id: str
    label: int | None  # None: not_a_number
    image: Path  # absolute
    source: str
    labelled_at: str


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


def read_label_rows(folder: Path) -> list[LabelRow]:
    """Parse and check DIR/labels.csv; a bad row raises DataError naming it."""
    folder = Path(folder)
    csv_path = folder / LABELS_FILE
    if not csv_path.is_file():
        raise DataError(f"{csv_path} not found: point --labels at a folder written by the review tool")
    with csv_path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [h for h in HEADER if h not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{csv_path} lacks column(s) {', '.join(missing)}: the header must be {','.join(HEADER)}")
        rows = []
        for lineno, rec in enumerate(reader, start=2):
            text = (rec["label"] or "").strip()
            if text == NOT_A_NUMBER:
                label = None
            else:
                try:
                    label = parse_label(text)
                except ValueError:
                    raise DataError(
                        f"{csv_path} line {lineno} (id {rec['id']!r}): unknown label {text!r}; "
                        f"use a number 0..36 or {NOT_A_NUMBER}"
                    ) from None
            image = (folder / (rec["image"] or "")).resolve()
            if label is not None and not image.is_file():
                raise DataError(f"{csv_path} line {lineno} (id {rec['id']!r}): image {rec['image']!r} not found in {folder}")
            rows.append(LabelRow(rec["id"], label, image, rec.get("source") or "", rec.get("labelled_at") or ""))
    if not any(r.label is not None for r in rows):
        raise DataError(f"{csv_path} has no cells labelled with a number: label some cells first")
    return rows


def load_labelled(folder: Path) -> LabelledCells:
    """Read, check and normalise every number cell of a labels folder (not_a_number rows are skipped)."""
    rows = [r for r in read_label_rows(folder) if r.label is not None]
    xs, ys, ids, raws, empty = [], [], [], [], []
    for row in rows:
        img = cv2.imread(str(row.image), cv2.IMREAD_COLOR)
        if img is None:
            raise DataError(f"{row.image} (id {row.id!r}) is not a readable image: relabel or remove that row")
        norm = normalize_cell(img)
        if norm is None:
            empty.append(row.id)
            continue
        xs.append(np.rint(norm * 255).astype(np.uint8))
        ys.append(row.label)
        ids.append(row.id)
        raws.append(img)
    if empty:
        log.warning("%d labelled number cell(s) look empty to the normaliser and are skipped: %s",
                    len(empty), ", ".join(empty[:10]) + (" ..." if len(empty) > 10 else ""))
    if not xs:
        raise DataError(f"no usable labelled cells in {folder}: every number cell normalised to empty")
    return LabelledCells(np.stack(xs), np.array(ys, np.int64), ids, raws, empty)


def write_labels_folder(folder: Path, cells: Iterable[tuple[str, int | None, np.ndarray, str]]) -> int:
    """Write (id, label, BGR crop, source) cells as a labels folder, in the review tool's format."""
    folder = Path(folder)
    stamp = utc_iso()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for cid, label, img, source in cells:
        rel = f"cells/{cid}.png"
        ok, png = cv2.imencode(".png", img)
        if not ok:
            raise DataError(f"cannot encode cell {cid} as PNG")
        write_bytes_atomic(folder / rel, png.tobytes())
        writer.writerow([cid, NOT_A_NUMBER if label is None else label, rel, source, stamp])
        count += 1
    with atomic_open(folder / LABELS_FILE) as f:
        f.write(buf.getvalue())
    return count
