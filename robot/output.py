"""A run's folder: per-table CSV/JSON/screenshots, the long `cells.csv`, and `run.json`.

Layout of `<output.folder>/<run_id>/`, run_id = `YYYYmmddTHHMMSSZ-<6 hex>`:
    <page>__<table>.csv            wide grid, the table's shape, no header, empty cells empty
    <page>__<table>.json           every cell with value, confidence, box, needs_review
    <page>__<table>.png            the element screenshot             (when screenshots are kept)
    <page>__<table>.annotated.png  read values drawn on the screenshot (when screenshots are kept)
    cells.csv                      one line per cell of every table of the run (rewritten after each table)
    run.json                       the run's summary (tables written, tables unchanged since an earlier run, errors)
    failure__<label>.png/.html     the page at a failure, saved once (label: page__table, page, or error class)

Writers take open streams; every file is written through `tablebot.files`.
`annotate` is a pure image function.
"""
from __future__ import annotations

import csv
import json
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterable
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from recognizer.imageio import to_bgr
from recognizer.table import Table, write_grid_csv, write_table_json
from robot.results import CapturedTable, Failure, RunResult
from tablebot.clock import utc_iso, utc_now
from tablebot.files import atomic_open, write_bytes_atomic

CELLS_CSV = "cells.csv"
RUN_JSON = "run.json"
CELLS_HEADER = ("run_id", "captured_at", "page", "table", "row", "col", "value", "confidence", "needs_review", "confirmed")
CONFIDENCE_DIGITS = 4
RUN_ID_HEX_BYTES = 3

# annotate(): colours are BGR
VALUE_INK = (150, 60, 0)  # dark blue digits...
VALUE_BACKING = (255, 255, 255)  # ...on a white patch, readable on any table style
FLAG_COLOUR = (0, 0, 255)  # red frame around cells that need review
FLAG_THICKNESS = 2  # drawn inside the cell's box
EMPTY_COLOUR = (128, 128, 128)  # grey cross on empty cells
FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_HEIGHT_FRACTION = 0.4  # label text height relative to the cell height
MIN_FONT_SCALE = 0.3


def new_run_id(now: datetime | None = None) -> str:
    now = (now or utc_now()).astimezone(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(RUN_ID_HEX_BYTES)}"


def public_url(url: str) -> str:
    """`url` without any `user:password@` part, safe to write down."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


# ---------------------------------------------------------------------------- stream writers

def write_cells_csv(run_id: str, captures: Iterable[CapturedTable], stream: IO[str]) -> None:
    """The long CSV: a header, then one line per cell of every table."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CELLS_HEADER)
    for item in captures:
        at = utc_iso(item.captured_at)
        for cell in item.table:
            writer.writerow([
                run_id, at, item.page, item.table_name, cell.row, cell.col,
                "" if cell.value is None else cell.value,
                f"{cell.confidence:.{CONFIDENCE_DIGITS}f}",
                _flag(cell.needs_review), _flag(cell.confirmed),
            ])


def run_summary(result: RunResult, files: dict[str, list[str]] | None = None) -> dict:
    files = files or {}
    return {
        "run_id": result.run_id,
        "started_at": utc_iso(result.started_at),
        "finished_at": utc_iso(result.finished_at),
        "seconds": round(result.seconds, 3),
        "target": public_url(result.target_url),
        "ok": result.ok,
        "tables": [
            {
                "page": item.page,
                "table": item.table_name,
                "captured_at": utc_iso(item.captured_at),
                "rows": item.table.rows,
                "cols": item.table.cols,
                "cells": len(item.table.cells),
                "empty": sum(c.value is None for c in item.table),
                "flagged": len(item.table.flagged),
                "files": files.get(item.stem, []),
            }
            for item in result.tables
        ],
        "unchanged": [
            {"page": item.page, "table": item.table_name, "same_as_run": item.same_as_run, "same": item.by}
            for item in result.unchanged
        ],
        "totals": {"tables": len(result.tables), "cells": result.cells, "flagged": result.flagged,
                   "unchanged": len(result.unchanged)},
        "errors": [_failure_dict(f) for f in result.errors],
        "files": files.get("", []),
    }


def write_run_json(result: RunResult, stream: IO[str], files: dict[str, list[str]] | None = None) -> None:
    json.dump(run_summary(result, files), stream, indent=1)
    stream.write("\n")


# ---------------------------------------------------------------------------- the run folder

def write_table_files(folder: Path, item: CapturedTable, *, screenshots: bool) -> list[str]:
    """Write one table's files into the run folder; returns their names."""
    names = [f"{item.stem}.csv", f"{item.stem}.json"]
    with atomic_open(folder / names[0], "w") as stream:
        write_grid_csv(item.table, stream)
    with atomic_open(folder / names[1], "w") as stream:
        write_table_json(item.table, stream)
    if screenshots:
        names += [f"{item.stem}.png", f"{item.stem}.annotated.png"]
        write_bytes_atomic(folder / names[2], item.png)
        write_bytes_atomic(folder / names[3], encode_png(annotate(decode_png(item.png), item.table)))
    return names


def write_cells_file(folder: Path, run_id: str, captures: Iterable[CapturedTable]) -> None:
    """(Re)write the run's `cells.csv` with the tables so far: a run cut off keeps every table written before."""
    with atomic_open(folder / CELLS_CSV, "w") as stream:
        write_cells_csv(run_id, captures, stream)


def write_run_files(result: RunResult, table_files: dict[str, list[str]] | None = None) -> list[str]:
    """Write `cells.csv` and `run.json` (which lists every file of the run); returns their names."""
    names = [CELLS_CSV, RUN_JSON]
    write_cells_file(result.folder, result.run_id, result.tables)
    files = {**(table_files or {}), "": names}
    with atomic_open(result.folder / RUN_JSON, "w") as stream:
        write_run_json(result, stream, files)
    return names


# ---------------------------------------------------------------------------- images

def annotate(image: np.ndarray, table: Table) -> np.ndarray:
    """A copy of `image` with each cell's read value drawn in its box, flagged cells framed red,
    empty cells crossed grey. Pure: no I/O, the input is left untouched."""
    out = to_bgr(image).copy()
    for cell in table:
        x, y, w, h = cell.box.x, cell.box.y, cell.box.w, cell.box.h
        if cell.value is None:
            cx, cy, r = x + w // 2, y + h // 2, max(2, min(w, h) // 6)
            cv2.line(out, (cx - r, cy - r), (cx + r, cy + r), EMPTY_COLOUR, 1, cv2.LINE_AA)
            cv2.line(out, (cx - r, cy + r), (cx + r, cy - r), EMPTY_COLOUR, 1, cv2.LINE_AA)
        else:
            _label(out, str(cell.value), x, y, h)
        if cell.needs_review:
            inset = FLAG_THICKNESS // 2
            cv2.rectangle(out, (x + inset, y + inset), (x + w - 1 - inset, y + h - 1 - inset), FLAG_COLOUR, FLAG_THICKNESS)
    return out


def _label(image: np.ndarray, text: str, x: int, y: int, cell_h: int) -> None:
    (_, base_h), _ = cv2.getTextSize("0", FONT, 1.0, 1)
    scale = max(MIN_FONT_SCALE, LABEL_HEIGHT_FRACTION * cell_h / base_h)
    (tw, th), baseline = cv2.getTextSize(text, FONT, scale, 1)
    top_left, bottom_right = (x + 1, y + 1), (x + 3 + tw, y + 3 + th + baseline)
    cv2.rectangle(image, top_left, bottom_right, VALUE_BACKING, cv2.FILLED)
    cv2.putText(image, text, (x + 2, y + 2 + th), FONT, scale, VALUE_INK, 1, cv2.LINE_AA)


def decode_png(png: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError("not a PNG image")
    return to_bgr(image)


def encode_png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("OpenCV could not encode the image as PNG")
    return buf.tobytes()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _failure_dict(failure: Failure) -> dict:
    return {"page": failure.page, "table": failure.table_name, "error": failure.error,
            "message": failure.message, "exit_code": failure.exit_code, "snapshot": failure.snapshot}
