"""The folder `recognizer read --out DIR` writes, read back for review: defined once here.

- `cells.csv`: one row per cell (`CELLS_COLUMNS`); the review tool corrects one row at a time;
- `summary.csv`: one row per picture (`SUMMARY_COLUMNS`);
- per picture (unless `--no-per-picture`), `<source>.csv` (the grid) and `<source>.json` (the
  table), the source's suffix kept (`a/t.png` -> `a/t.png.csv`); corrected with `cells.csv`;
- `collection.json`: where each picture was read from (absolute paths: a collection can mix
  several input roots) and the settings fingerprint of the run, so that its tables (with their
  cell boxes) are found in `.journal.jsonl` without reading any picture again.

The three are written atomically at the end of a read. The journal holds the model's readings;
`cells.csv` holds them and a person's corrections (`confirmed=true`), which a rerun keeps for a
picture of the same content read in the same shape. A correction rewrites `cells.csv`
atomically (temp file, then rename) under the journal's flock, so it never interleaves with a
`recognizer read` on the same folder: while one runs, opening and correcting are refused
(`FolderBusy`) rather than waiting for a run that may take minutes.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from recognizer.journal import JOURNAL_NAME, folder_locked, load
from recognizer.table import (
    Cell,
    Table,
    table_from_dict,
    write_grid_csv,
    write_table_json,
)
from tablebot.errors import DataError
from tablebot.files import atomic_open

CELLS_FILE = "cells.csv"
SUMMARY_FILE = "summary.csv"
MANIFEST_FILE = "collection.json"
CELLS_COLUMNS = ("source", "row", "col", "value", "confidence", "needs_review", "confirmed")
SUMMARY_COLUMNS = ("source", "sha256", "rows", "cols", "cells", "flagged", "status", "error")
COLLECTION_FILES = (CELLS_FILE, SUMMARY_FILE, MANIFEST_FILE)
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Picture:
    """One picture of a collection that was read: its table as `cells.csv` now has it."""

    name: str  # relative to its input root: the `source` column
    path: Path  # where it was read from
    sha256: str
    table: Table


def bool_text(flag: bool) -> str:
    return "true" if flag else "false"


def cell_fields(source: str, cell: Cell) -> list:
    """One `cells.csv` row (the writer's and the corrector's one format)."""
    return [source, cell.row, cell.col, "" if cell.value is None else cell.value,
            round(float(cell.confidence), 6), bool_text(cell.needs_review), bool_text(cell.confirmed)]


def write_manifest(stream: IO[str], fingerprint: str, sources: Mapping[str, Path]) -> None:
    record = {"version": MANIFEST_VERSION, "fingerprint": fingerprint,
              "sources": {name: str(Path(path).absolute()) for name, path in sources.items()}}
    json.dump(record, stream, indent=1, sort_keys=True)
    stream.write("\n")


def write_per_picture(table: Table, folder: Path, name: str, only_missing: bool = False) -> None:
    """`folder`/<name>.csv and <name>.json; with `only_missing`, those already there are left alone."""
    for suffix, write in ((".csv", write_grid_csv), (".json", write_table_json)):
        path = Path(folder) / f"{name}{suffix}"
        if only_missing and path.exists():
            continue
        with atomic_open(path) as f:
            write(table, f)


# A person's corrections, per picture: (source, sha256, rows, cols) -> {(row, col): value}.
Corrections = dict[tuple[str, str, int, int], dict[tuple[int, int], "int | None"]]


def read_corrections(folder: Path) -> Corrections:
    """The confirmed cells of `folder`'s cells.csv, keyed by their picture's content and shape
    (summary.csv), so that a rerun keeps them for the same picture read in the same shape."""
    folder = Path(folder)
    if not is_collection(folder):
        return {}
    text = _read_text(folder / CELLS_FILE)
    if not any(mark in text for mark in (",true\n", ",true\r")) and not text.endswith(",true"):
        return {}  # no row ends confirmed (the last column): the usual case, found at once
    pictures = {r["source"]: r for r in _dict_rows(folder / SUMMARY_FILE) if r["status"] == "read"}
    found: Corrections = {}
    try:
        for source, row, col, value, _, _, confirmed in _cells_rows(folder / CELLS_FILE, text):
            picture = pictures.get(source)
            if confirmed != "true" or picture is None:
                continue
            key = (source, picture["sha256"], int(picture["rows"]), int(picture["cols"]))
            found.setdefault(key, {})[int(row), int(col)] = int(value) if value != "" else None
    except ValueError:  # a row of another length, or not a number where one goes
        raise DataError(f"{folder / CELLS_FILE} is damaged: restore it, or delete it and read the collection again "
                        "(corrections not in the labels folder are then lost)") from None
    return found


def with_corrections(table: Table, sha256: str, corrections: Corrections) -> Table:
    """`table` (of picture `sha256`) with the corrections made to that picture in that shape."""
    for (row, col), value in corrections.get((table.source, sha256, table.rows, table.cols), {}).items():
        table = table.with_cell(replace(table.cell(row, col), value=value, needs_review=False, confirmed=True))
    return table


# ---------------------------------------------------------------- reading a collection back

def is_collection(folder: Path) -> bool:
    return all((Path(folder) / name).is_file() for name in (CELLS_FILE, SUMMARY_FILE, JOURNAL_NAME))


def load_collection(folder: Path) -> list[Picture]:
    """The pictures read in `folder`, in summary order, their boxes from the journal and their
    values from `cells.csv` (with any corrections). No picture is opened; one that is gone
    from where it was read raises DataError naming it."""
    folder = Path(folder)
    if not is_collection(folder):
        raise DataError(f"{folder} is not a collection (no {CELLS_FILE}, {SUMMARY_FILE} and {JOURNAL_NAME}): "
                        f"give the --out folder of a `recognizer read`")
    with folder_locked(folder, "open the collection again"):  # its files, all from one run
        fingerprint, paths = _read_manifest(folder)
        entries = load(folder / JOURNAL_NAME, fingerprint)
        corrections = read_corrections(folder)  # cells.csv differs from the journal only in these
        summaries = _dict_rows(folder / SUMMARY_FILE)
    pictures = []
    for summary in summaries:
        if summary["status"] != "read":
            continue
        name, sha = summary["source"], summary["sha256"]
        entry = entries.get(sha)
        if entry is None or entry.table is None or name not in paths:  # files of different runs
            missing = JOURNAL_NAME if name in paths else MANIFEST_FILE
            raise DataError(f"{folder}: {name} is in {SUMMARY_FILE} but not in {missing}: run the same recognizer read again")
        path = paths[name]
        if not path.is_file():
            raise DataError(f"{path} ({name} of {folder}) is gone: put it back, or read the collection again without it")
        table = with_corrections(replace(entry.table, source=name), sha, corrections)
        pictures.append(Picture(name, path, sha, table))
    return pictures


def _read_manifest(folder: Path) -> tuple[str, dict[str, Path]]:
    path = folder / MANIFEST_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["version"] != MANIFEST_VERSION:
            raise ValueError(record["version"])
        return str(record["fingerprint"]), {name: Path(p) for name, p in record["sources"].items()}
    except FileNotFoundError:
        raise DataError(f"{path} not found (an older recognizer read): run the same recognizer read again "
                        "to record where the pictures are") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DataError(f"{path} is damaged: run the same recognizer read again to rewrite it") from None


def _dict_rows(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None


def _cells_rows(path: Path, text: str) -> Iterator[list[str]]:
    """The data rows of `cells.csv` (its text given), in `CELLS_COLUMNS` order."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != CELLS_COLUMNS:
        raise DataError(f"{path}: the header must be {','.join(CELLS_COLUMNS)}: is this a recognizer read folder?")
    return reader


def _read_text(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:  # line endings as written
        return f.read()


# ---------------------------------------------------------------- a correction

def check_free(folder: Path, then: str) -> None:
    """FolderBusy now if a recognizer read runs on `folder` (saying to wait and `then`)."""
    with folder_locked(Path(folder), then):
        pass


def correct_cell(folder: Path, source: str, cell: Cell) -> None:
    """Set the row of (`source`, cell.row, cell.col) in `folder`/cells.csv to the cell's value,
    needs_review and confirmed, the other rows byte for byte as they were; atomically, under the
    journal's lock (FolderBusy while a recognizer read runs there)."""
    path = Path(folder) / CELLS_FILE
    with folder_locked(Path(folder), "try again"):
        text = _read_text(path)
        # A row starts a line with its source,row,col; the fields after them never hold a newline
        # or a quote: one search finds the row, however large the collection.
        key = io.StringIO()
        csv.writer(key, lineterminator="").writerow([source, cell.row, cell.col, ""])
        start = text.find("\n" + key.getvalue()) + 1
        if start == 0:
            raise DataError(f"{path} has no row for {source} ({cell.row}, {cell.col}): "
                            "the collection was read again; reload the tables")
        end = text.find("\n", start + len(key.getvalue())) + 1 or len(text)
        old = next(csv.reader([text[start:end]]))
        fields = cell_fields(source, cell)
        fields[4] = old[4]  # the model's confidence, as written
        row = io.StringIO()
        csv.writer(row, lineterminator="\n").writerow(fields)
        with atomic_open(path) as f:
            f.write(text[:start])
            f.write(row.getvalue())
            f.write(text[end:])
        _correct_per_picture(Path(folder), source, cell)


def _correct_per_picture(folder: Path, source: str, cell: Cell) -> None:
    """The cell in `source`'s own JSON and grid CSV too, where they were written."""
    path = folder / f"{source}.json"
    try:
        table = table_from_dict(json.loads(_read_text(path)))
    except FileNotFoundError:
        return  # --no-per-picture
    except (OSError, ValueError, KeyError, TypeError):
        raise DataError(f"{path} is damaged: delete it and read the collection again to rewrite it") from None
    if not (0 <= cell.row < table.rows and 0 <= cell.col < table.cols):
        raise DataError(f"{path} has no cell ({cell.row}, {cell.col}): delete it and read the collection again")
    old = table.cell(cell.row, cell.col)
    write_per_picture(table.with_cell(replace(old, value=cell.value, needs_review=cell.needs_review,
                                              confirmed=cell.confirmed)), folder, source)
