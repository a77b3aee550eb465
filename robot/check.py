"""`run-once --check-demo`: compare a run's written CSVs with the demo site's true values.

A run passes when at least `MIN_ACCURACY` of all cells are right and every wrong cell
was flagged `needs_review` (a wrong value that nobody is asked to look at is the costly kind).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from recognizer.table import read_grid_csv, table_from_dict
from robot.results import table_stem
from tablebot.errors import DataError

MIN_ACCURACY = 0.99

Grid = Sequence[Sequence["int | None"]]


@dataclass(frozen=True)
class TableCheck:
    page: str
    table: str
    cells: int
    wrong: int
    wrong_unflagged: int

    @property
    def accuracy(self) -> float:
        return (self.cells - self.wrong) / self.cells if self.cells else 0.0


@dataclass(frozen=True)
class DemoCheck:
    tables: tuple[TableCheck, ...]
    min_accuracy: float = MIN_ACCURACY

    @property
    def cells(self) -> int:
        return sum(t.cells for t in self.tables)

    @property
    def wrong(self) -> int:
        return sum(t.wrong for t in self.tables)

    @property
    def wrong_unflagged(self) -> int:
        return sum(t.wrong_unflagged for t in self.tables)

    @property
    def accuracy(self) -> float:
        return (self.cells - self.wrong) / self.cells if self.cells else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.tables) and self.accuracy >= self.min_accuracy and self.wrong_unflagged == 0


def check_table(page: str, table: str, read: Grid, flags: Grid, truth: Grid) -> TableCheck:
    """Cell by cell; a read grid of another shape counts every true cell as wrong and unflagged."""
    cells = sum(len(row) for row in truth)
    if [len(r) for r in read] != [len(r) for r in truth]:
        return TableCheck(page, table, cells, cells, cells)
    wrong = unflagged = 0
    for read_row, flag_row, true_row in zip(read, flags, truth):
        for value, flagged, true in zip(read_row, flag_row, true_row):
            if value != true:
                wrong += 1
                unflagged += not flagged
    return TableCheck(page, table, cells, wrong, unflagged)


def check_run(
    folder: Path,
    tables: Sequence[tuple[str, str]],
    truth: Callable[[str, str], Grid],
    min_accuracy: float = MIN_ACCURACY,
) -> DemoCheck:
    """Check each `(page, table)` from its written `<page>__<table>.csv`, with flags from its `.json`."""
    checks = []
    for page, table in tables:
        stem = table_stem(page, table)
        try:
            with open(folder / f"{stem}.csv", encoding="utf-8", newline="") as stream:
                read = read_grid_csv(stream)
            written = table_from_dict(json.loads((folder / f"{stem}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"cannot check {folder / stem}: {exc}") from None
        flags = [[written.cell(r, c).needs_review for c in range(written.cols)] for r in range(written.rows)]
        checks.append(check_table(page, table, read, flags, truth(page, table)))
    return DemoCheck(tuple(checks), min_accuracy)
