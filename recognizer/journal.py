"""The output folder's journal, so that `recognizer read` resumes where it stopped.

`OUT/.journal.jsonl` gets one JSON line per finished picture, appended, flushed and fsync'd as
soon as the picture is done: its content sha256, the settings fingerprint (the model files'
bytes, the review threshold, the expected shape) and the outcome (status, error, table). A rerun
skips every picture whose (sha256, fingerprint) is there. On load a torn line (a kill -9 in the
middle of a write) and lines of other settings are ignored; the file is never rewritten. The run
holds an exclusive flock on it: a second run on the same folder is refused (exit code 10), and
so are `robot review --collection` opening or correcting the folder (`folder_locked`) meanwhile.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from recognizer.errors import FolderBusy
from recognizer.model import metadata_path, second_opinion_path, tflite_path
from recognizer.settings import ModelSettings, TableShape
from recognizer.table import Table, table_from_dict, table_to_dict
from tablebot.files import output_error

JOURNAL_NAME = ".journal.jsonl"
VERSION = 1


@dataclass(frozen=True)
class Entry:
    status: str
    error: str
    table: Table | None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(settings: ModelSettings, shape: TableShape) -> str:
    """What the outcome of one picture depends on besides its bytes: the model (its .keras and the
    .tflite and .json beside it, which inference and calibration use, and its second opinion's),
    the thresholds, the shape."""
    model = Path(settings.path)
    second = second_opinion_path(model)
    files = {p.name.removeprefix(model.stem): file_sha256(p) if p.is_file() else "" for m in (model, second)
             for p in (m, tflite_path(m), metadata_path(m))}
    parts = {"version": VERSION, "model": files, "review_threshold": settings.review_threshold,
             "max_pixels": settings.max_pixels, **shape.model_dump()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class Journal:
    """The entries of one fingerprint found in `path`, and an appender for new ones."""

    def __init__(self, path: Path, fingerprint: str):
        """Opens (creates) the journal and holds an exclusive flock on it until `close`: one run
        per output folder (the kernel drops the lock however the process ends)."""
        self.path = Path(path)
        self.fingerprint = fingerprint
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise output_error(self.path, exc) from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._fd)
            self._fd = None
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise FolderBusy(f"another recognizer read is writing to {self.path.parent}: "
                                 "wait for it to finish or choose another --out") from None
            raise output_error(self.path, exc) from exc
        if new:
            _fsync_dir(self.path.parent)
        self.entries: dict[str, Entry] = load(self.path, fingerprint)
        self._torn = _ends_torn(self.path)

    def get(self, sha256: str) -> Entry | None:
        return self.entries.get(sha256)

    def add(self, sha256: str, status: str, error: str, table: Table | None, record: dict | None = None) -> None:
        """Append one line in one write (after ending a torn last line), then fsync. `record`:
        `table_to_dict(table)` when the caller has it already (it is the costly part)."""
        if record is None and table is not None:
            record = table_to_dict(table)
        line = json.dumps({"v": VERSION, "sha256": sha256, "fingerprint": self.fingerprint, "status": status,
                           "error": error, "table": record},
                          separators=(",", ":")).encode("utf-8") + b"\n"
        if self._torn:  # end the torn line, so that it stays one ignored line and ours stays whole
            line = b"\n" + line
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as exc:
            raise output_error(self.path, exc) from exc
        self._torn = False
        self.entries[sha256] = Entry(status, error, table)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def folder_locked(folder: Path, then: str) -> Iterator[None]:
    """While inside, no `recognizer read` runs on `folder` (the run's flock on its journal, taken
    without waiting); FolderBusy says to wait for it and `then`."""
    path = Path(folder) / JOURNAL_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise output_error(path, exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise FolderBusy(f"a recognizer read is writing to {folder}: wait for it to finish, then {then}") from None
            raise output_error(path, exc) from exc
        yield
    finally:
        os.close(fd)  # releases the lock


def _ends_torn(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def load(path: Path, fingerprint: str) -> dict[str, Entry]:
    """sha256 -> the last entry of `fingerprint`; unparsable lines and other fingerprints skipped."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise output_error(Path(path), exc) from exc
    entries: dict[str, Entry] = {}
    for raw in data.split(b"\n"):
        try:
            record = json.loads(raw)
            if record.get("v") != VERSION or record.get("fingerprint") != fingerprint:
                continue
            table = None if record["table"] is None else table_from_dict(record["table"])
            entry = Entry(str(record["status"]), str(record["error"]), table)
            sha = record["sha256"]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a torn or foreign line
        if isinstance(sha, str) and sha:
            entries[sha] = entry
    return entries


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
