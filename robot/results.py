"""What one run produces: a `CapturedTable` per table (screenshot + recognised `Table`), a `RunResult` per run."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from recognizer.table import Table
from tablebot.errors import ExitCode, TableBotError

STEM_SEPARATOR = "__"


def table_stem(page: str, table: str) -> str:
    """A table's key within a run, and the stem of its files in the run folder: `<page>__<table>`."""
    return f"{page}{STEM_SEPARATOR}{table}"


@dataclass(frozen=True)
class CapturedTable:
    """One table as captured and read: the one object flowing from capture to the CSV writers."""

    page: str
    table_name: str
    captured_at: datetime  # UTC, when the screenshot was taken
    png: bytes = field(repr=False)  # the element screenshot
    table: Table
    image_sha256: str = ""  # of the decoded pixels (robot.dedupe.image_digest)
    values_sha256: str = ""  # of the read values (robot.dedupe.table_digest)

    @property
    def stem(self) -> str:
        return table_stem(self.page, self.table_name)


@dataclass(frozen=True)
class Unchanged:
    """A table skipped because an earlier run already captured it (same image, or same values)."""

    page: str
    table_name: str
    same_as_run: str  # the run that wrote it
    by: str  # "image" or "values"

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
    snapshot: str | None = None  # the saved page, `failure__<label>` (.png and .html) in the run folder
    table_image: str | None = None  # a table's own element screenshot at the failure, `failure__<page>__<table>.table.png`

    @classmethod
    def from_error(cls, exc: TableBotError, page: str | None = None, table_name: str | None = None,
                   snapshot: str | None = None, table_image: str | None = None) -> "Failure":
        return cls(type(exc).__name__, str(exc), int(exc.exit_code), page, table_name, snapshot, table_image)

    @property
    def where(self) -> str:
        """`page/table` for a table, `page` for a whole page, `run` for the run."""
        return "/".join(p for p in (self.page, self.table_name) if p) or "run"


@dataclass(frozen=True)
class Progress:
    """Handed to `run_once(on_progress=...)` after each table."""

    done: int
    total: int
    item: CapturedTable | Unchanged | Failure


@dataclass(frozen=True)
class RunResult:
    run_id: str
    started_at: datetime
    finished_at: datetime
    folder: Path
    target_url: str  # the site's base URL, without any user:password@ part
    tables: tuple[CapturedTable, ...]
    errors: tuple[Failure, ...] = ()
    unchanged: tuple[Unchanged, ...] = ()  # skipped: already captured by an earlier run

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
