"""What one run produces: a `CapturedTable` per table (screenshot + recognised `Table`), a `RunResult` per run."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from recognizer.errors import ExitCode, TableBotError
from recognizer.table import Table


def table_stem(page: str, table: str) -> str:
    """The file-name stem of one table's outputs: `<page>__<table>`."""
    return f"{page}__{table}"


@dataclass(frozen=True)
class CapturedTable:
    """One table as captured and read: the one object flowing from capture to the CSV writers."""

    page: str
    table_name: str
    captured_at: datetime  # UTC, when the screenshot was taken
    png: bytes = field(repr=False)  # the element screenshot
    table: Table

    @property
    def stem(self) -> str:
        return table_stem(self.page, self.table_name)


@dataclass(frozen=True)
class Failure:
    """Something that went wrong in a run. With a page and table: that table could not be captured
    or read, and the run went on with the others. Without: the run stopped (login, browser, site)."""

    error: str  # the exception class, e.g. "TableNotFound"
    message: str
    exit_code: int
    page: str | None = None
    table_name: str | None = None

    @classmethod
    def from_error(cls, exc: TableBotError, page: str | None = None, table_name: str | None = None) -> "Failure":
        return cls(type(exc).__name__, str(exc), int(exc.exit_code), page, table_name)

    @property
    def where(self) -> str:
        return f"{self.page}/{self.table_name}" if self.page else "run"


@dataclass(frozen=True)
class Progress:
    """Handed to `run_once(on_progress=...)` after each table."""

    done: int
    total: int
    item: CapturedTable | Failure


@dataclass(frozen=True)
class RunResult:
    run_id: str
    started_at: datetime
    finished_at: datetime
    folder: Path
    target_url: str  # the site's base URL, without any user:password@ part
    tables: tuple[CapturedTable, ...]
    errors: tuple[Failure, ...] = ()

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def cells(self) -> int:
        return sum(len(t.table.cells) for t in self.tables)

    @property
    def flagged(self) -> int:
        return sum(len(t.table.flagged) for t in self.tables)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0 when every table was read, else the first failure's exit code."""
        return self.errors[0].exit_code if self.errors else int(ExitCode.OK)
