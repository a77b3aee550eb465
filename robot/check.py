"""`run-once --check-demo`: compare a run's written CSVs with the demo site's true values.

A run passes when at least `MIN_ACCURACY` of all cells are right and every wrong cell
was flagged `needs_review` (a wrong value that nobody is asked to look at is the costly kind).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from recognizer.table import ValueGrid
from robot.results import table_stem
from robot.runfolder import RunTable, read_grid, read_table

MIN_ACCURACY = 0.99


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


def check_table(page: str, table: str, read: ValueGrid, flags: Sequence[Sequence[bool]], truth: ValueGrid) -> TableCheck:
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
    truth: Callable[[str, str], ValueGrid],
    min_accuracy: float = MIN_ACCURACY,
) -> DemoCheck:
    """Check each `(page, table)` from its written `<page>__<table>.csv`, with flags from its `.json`."""
    checks = []
    for page, table in tables:
        rt = RunTable(folder, table_stem(page, table))
        read, written = read_grid(rt), read_table(rt)
        flags = [[written.cell(r, c).needs_review for c in range(written.cols)] for r in range(written.rows)]
        checks.append(check_table(page, table, read, flags, truth(page, table)))
    return DemoCheck(tuple(checks), min_accuracy)
