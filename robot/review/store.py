"""The review tool's labels in memory: the labelled-cells folder (`recognizer.labelset`) that
`recognizer finetune` reads, kept in file order and saved on every change.

Every change writes the cell image first and then the whole CSV, each atomically: stopping
the tool at any moment leaves every saved label in place.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np

from recognizer.labels import CLASSES
from recognizer.labelset import (
    LABELS_FILE,
    NOT_A_NUMBER,
    Label,
    LabelRecord,
    label_id,
    read_labels,
    save_labels,
    write_cell,
)
from tablebot.errors import DataError


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
        record = write_cell(self.folder, label_id(source), crop, label, source, labelled_at)
        self._save({**self._records, record.id: record})
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
        save_labels(self.folder, records.values())
        self._records = records
