"""The one result type: a `Table` of `Cell`s, flowing from the recognizer to CSV and review.

Writers take open text streams; callers own the files (see `tablebot.files`).
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field, replace
from typing import IO, Iterator, Sequence

# A table's values row by row, None for an empty cell (what `Table.to_grid` gives).
ValueGrid = Sequence[Sequence["int | None"]]


@dataclass(frozen=True)
class Box:
    """Pixel rectangle in the source image: x, y of the top-left corner, width, height."""

    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    value: int | None  # None: the cell is empty
    confidence: float  # 1.0 for a confidently empty cell
    box: Box
    needs_review: bool = False
    confirmed: bool = False  # a person has confirmed or corrected the value


@dataclass(frozen=True)
class Table:
    rows: int
    cols: int
    cells: tuple[Cell, ...]
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.cells) != self.rows * self.cols:
            raise ValueError(f"a {self.rows}x{self.cols} table needs {self.rows * self.cols} cells, got {len(self.cells)}")

    def cell(self, row: int, col: int) -> Cell:
        return self.cells[row * self.cols + col]

    def __iter__(self) -> Iterator[Cell]:
        return iter(self.cells)

    def to_grid(self) -> list[list[int | None]]:
        return [[self.cell(r, c).value for c in range(self.cols)] for r in range(self.rows)]

    @property
    def flagged(self) -> list[Cell]:
        return [c for c in self.cells if c.needs_review]

    def with_cell(self, cell: Cell) -> "Table":
        cells = list(self.cells)
        cells[cell.row * self.cols + cell.col] = cell
        return replace(self, cells=tuple(cells))


def write_grid_csv(table: Table, stream: IO[str]) -> None:
    """The table's shape, no header, one table row per line, empty cells empty."""
    writer = csv.writer(stream, lineterminator="\n")
    for row in table.to_grid():
        writer.writerow(["" if v is None else v for v in row])


def read_grid_csv(stream: IO[str]) -> list[list[int | None]]:
    return [[int(v) if v != "" else None for v in row] for row in csv.reader(stream)]


def table_to_dict(table: Table) -> dict:
    return {
        "source": table.source,
        "rows": table.rows,
        "cols": table.cols,
        "meta": table.meta,
        "cells": [
            {**asdict(c), "box": c.box.as_list(), "confidence": round(float(c.confidence), 6)} for c in table.cells
        ],
    }


def table_from_dict(data: dict) -> Table:
    cells = tuple(Cell(**{**c, "box": Box(*c["box"])}) for c in data["cells"])
    return Table(rows=data["rows"], cols=data["cols"], cells=cells, source=data.get("source", ""), meta=data.get("meta", {}))


def write_table_json(table: Table, stream: IO[str]) -> None:
    json.dump(table_to_dict(table), stream, indent=1)
    stream.write("\n")
