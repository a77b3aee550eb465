"""The robot's own SQLite database in the output folder (`robot.sqlite`): the run ledger and the capture index.

One connection per operation: the ledger is written from the scheduler's worker thread and read
by `robot status` in another process, and SQLite serialises them. sqlite3's errors become
`OutputError` here, with the file named and what to do.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterator

from tablebot.errors import OutputError

STATE_FILE = "robot.sqlite"
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's transaction


def state_path(output_folder: Path) -> Path:
    return Path(output_folder) / STATE_FILE


@contextlib.contextmanager
def connect(path: Path, schema: str = "", *, readonly: bool = False) -> Iterator[sqlite3.Connection | None]:
    """A connection in one transaction (committed on success). `schema` runs first (CREATE ... IF NOT EXISTS).

    `readonly=True` never creates the file and yields None when there is none yet.
    """
    path = Path(path)
    if readonly and not path.is_file():
        yield None
        return
    try:
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    except (OSError, sqlite3.Error) as exc:
        raise _state_error(path, exc) from exc
    try:
        con.row_factory = sqlite3.Row
        with con:
            if schema and not readonly:
                con.executescript(schema)
            yield con
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from exc
    finally:
        con.close()


def _state_error(path: Path, exc: BaseException) -> OutputError:
    text = str(exc)
    if "full" in text:
        return OutputError(f"disk full while writing {path}: free some space; earlier runs are intact")
    if "readonly" in text or "unable to open" in text or isinstance(exc, PermissionError):
        return OutputError(f"cannot write {path} ({text}): choose a writable output.folder")
    if "locked" in text:
        return OutputError(f"{path} stayed locked by another process for {BUSY_TIMEOUT_S:g} s ({text}): "
                           "check for a stuck `robot` process")
    return OutputError(f"the robot's database {path} failed: {text}; move it aside to start a fresh one")
