"""robot.runfolder: run ids, the per-table files, cells.csv (written and read back), run.json; robot.annotate."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from recognizer.imageio import decode_png
from recognizer.table import Box, Cell, Table, read_grid_csv, table_from_dict
from robot import runfolder
from robot.annotate import annotate
from robot.errors import TableNotFound
from robot.results import CapturedTable, Failure, RunResult
from robot.runfolder import (
    CELLS_HEADER,
    cell_rows,
    new_run_id,
    public_url,
    read_cells_csv,
    write_cells_csv,
    write_run_files,
    write_table_files,
)
from tablebot.clock import utc_iso
from tablebot.errors import OutputError
from tests.robot_fakes import grid_png

AT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


def make_table(rows=2, cols=3, empty=((1, 2),), flagged=((0, 1),), cell=(30, 20)) -> Table:
    w, h = cell
    cells = tuple(
        Cell(r, c, None if (r, c) in empty else r * cols + c, 1.0 if (r, c) in empty else (0.4 if (r, c) in flagged else 0.98),
             Box(c * w, r * h, w, h), (r, c) in flagged)
        for r in range(rows) for c in range(cols)
    )
    return Table(rows, cols, cells, source="run/light__main")


def captured(page="light", name="main", table=None) -> CapturedTable:
    table = table or make_table()
    return CapturedTable(page, name, AT, grid_png(table.rows, table.cols), table)


def test_run_id_is_utc_time_and_six_hex():
    run_id = new_run_id(datetime(2024, 5, 6, 9, 8, 9, tzinfo=timezone(timedelta(hours=2))))
    assert re.fullmatch(r"20240506T070809Z-[0-9a-f]{6}", run_id)
    assert new_run_id(AT) != new_run_id(AT)


def test_utc_iso_ends_in_z():
    assert utc_iso(AT) == "2024-05-06T07:08:09.123Z"


def test_public_url_drops_credentials():
    assert public_url("https://bob:secret@example.org:8443/app") == "https://example.org:8443/app"
    assert public_url("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_cells_csv_header_and_one_line_per_cell():
    stream = io.StringIO()
    items = [captured(), captured(page="roulette", name="small", table=make_table(4, 10, (), ()))]
    write_cells_csv([row for item in items for row in cell_rows("RUN1", item)], stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert tuple(rows[0]) == CELLS_HEADER == (
        "run_id", "captured_at", "page", "table", "row", "col", "value", "confidence", "needs_review", "confirmed")
    assert len(rows) == 1 + 6 + 40
    assert rows[1] == ["RUN1", "2024-05-06T07:08:09.123Z", "light", "main", "0", "0", "0", "0.9800", "false", "false"]
    assert rows[2][6:9] == ["1", "0.4000", "true"]  # the flagged cell
    assert rows[6][6] == ""  # the empty cell (1, 2)
    assert {r[9] for r in rows[1:]} == {"false"}
    again = io.StringIO()
    write_cells_csv(read_cells_csv(io.StringIO(stream.getvalue())), again)
    assert again.getvalue() == stream.getvalue()  # the reader reads back exactly what the writer wrote


def test_table_files_wide_csv_json_png_and_annotation(tmp_path):
    item = captured()
    names = write_table_files(tmp_path, item, screenshots=True)
    assert names == ["light__main.csv", "light__main.json", "light__main.png", "light__main.annotated.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no temp files left behind
    with open(tmp_path / "light__main.csv", newline="") as f:
        assert read_grid_csv(f) == [[0, 1, 2], [3, 4, None]]
    assert (tmp_path / "light__main.csv").read_text() == "0,1,2\n3,4,\n"
    assert table_from_dict(json.loads((tmp_path / "light__main.json").read_text())) == item.table
    assert (tmp_path / "light__main.png").read_bytes() == item.png
    annotated = decode_png((tmp_path / "light__main.annotated.png").read_bytes())
    assert annotated.shape == decode_png(item.png).shape


def test_without_screenshots_only_text_files(tmp_path):
    assert write_table_files(tmp_path, captured(), screenshots=False) == ["light__main.csv", "light__main.json"]
    assert not list(tmp_path.glob("*.png"))


def test_every_file_goes_through_atomic_open(tmp_path, monkeypatch):
    opened = []
    real = runfolder.atomic_open

    def spy(path, mode="w", **kw):
        opened.append(Path(path).name)
        return real(path, mode, **kw)

    monkeypatch.setattr(runfolder, "atomic_open", spy)
    monkeypatch.setattr(runfolder, "write_bytes_atomic", lambda path, data: spy_bytes(path, data))

    def spy_bytes(path, data):
        with spy(path, "wb") as f:
            f.write(data)

    item = captured()
    files = {item.stem: write_table_files(tmp_path, item, screenshots=True)}
    write_run_files(run_result(tmp_path, [item]), files)
    assert sorted(opened) == sorted(p.name for p in tmp_path.iterdir())


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    item = captured()
    write_table_files(tmp_path, item, screenshots=False)
    before = (tmp_path / "light__main.csv").read_text()

    def broken(table, stream):
        stream.write("9,9,9\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runfolder, "write_grid_csv", broken)
    with pytest.raises(OutputError, match="disk full"):
        write_table_files(tmp_path, item, screenshots=False)
    assert (tmp_path / "light__main.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["light__main.csv", "light__main.json"]


def run_result(folder, items, errors=()) -> RunResult:
    return RunResult("RUN1", AT, AT + timedelta(seconds=2.5), folder, "https://u:p@site.example/app", tuple(items), tuple(errors))


def test_run_json_summarises_tables_errors_and_files(tmp_path):
    item = captured()
    files = {item.stem: write_table_files(tmp_path, item, screenshots=False)}
    failure = Failure.from_error(TableNotFound("no #table-small"), "roulette", "small")
    assert write_run_files(run_result(tmp_path, [item], [failure]), files) == ["cells.csv", "run.json"]
    summary = json.loads((tmp_path / "run.json").read_text())
    assert summary["run_id"] == "RUN1" and summary["seconds"] == 2.5 and summary["ok"] is False
    assert summary["target"] == "https://site.example/app"
    assert summary["tables"] == [{
        "page": "light", "table": "main", "captured_at": "2024-05-06T07:08:09.123Z", "rows": 2, "cols": 3,
        "cells": 6, "empty": 1, "flagged": 1, "files": ["light__main.csv", "light__main.json"],
    }]
    assert summary["totals"] == {"tables": 1, "cells": 6, "flagged": 1, "unchanged": 0}
    assert summary["errors"] == [{"page": "roulette", "table": "small", "error": "TableNotFound",
                                  "message": "no #table-small", "exit_code": 8, "snapshot": None,
                                  "table_image": None}]
    assert summary["unchanged"] == []
    assert summary["files"] == ["cells.csv", "run.json"]


def test_annotate_draws_values_flags_and_empties_without_touching_the_input():
    table = make_table(cell=(40, 30))
    image = np.full((60, 120, 3), 255, np.uint8)
    out = annotate(image, table)
    assert out.shape == image.shape and (image == 255).all()
    red = (out[..., 2] > 200) & (out[..., 1] < 60) & (out[..., 0] < 60)
    assert red[0:30, 40:80].sum() > 100  # flagged (0, 1) framed red
    assert red[:, :40].sum() == 0 and red[30:, :].sum() == 0  # nowhere else
    blue_ink = (out[..., 0] > 100) & (out[..., 2] < 100)
    assert blue_ink[0:30, 0:40].any()  # value 0 written in cell (0, 0)
    grey = (np.abs(out.astype(int) - 128).max(axis=2) < 40)
    assert grey[30:60, 80:120].any() and not blue_ink[30:60, 80:120].any()  # empty (1, 2): a grey mark, no digits


def test_annotate_accepts_grey_images():
    out = annotate(np.full((60, 120), 200, np.uint8), make_table(cell=(40, 30)))
    assert out.shape == (60, 120, 3)


# ---------------------------------------------------------------------------- two writers of cells.csv

def test_adding_a_table_keeps_a_correction_made_meanwhile_and_finishing_rewrites_nothing(tmp_path):
    first, second = captured(), captured(page="roulette", name="small", table=make_table(4, 10, (), ()))
    files = {first.stem: runfolder.add_table(tmp_path, first, screenshots=True, run_id="RUN1")}
    runfolder.correct_cell(runfolder.RunTable(tmp_path, first.stem), 0, 0, 36, needs_review=False, confirmed=True)
    files[second.stem] = runfolder.add_table(tmp_path, second, screenshots=True, run_id="RUN1")
    write_run_files(run_result(tmp_path, [first, second]), files)
    rows = runfolder.read_cells_file(tmp_path / runfolder.CELLS_CSV)
    assert len(rows) == 6 + 40
    (corrected,) = [r for r in rows if (r.page, r.table, r.row, r.col) == ("light", "main", 0, 0)]
    assert (corrected.value, corrected.confirmed) == (36, True)


def test_a_correction_waits_for_the_harvest_holding_the_run_folder(tmp_path):
    import threading

    item = captured()
    runfolder.add_table(tmp_path, item, screenshots=False, run_id="RUN1")
    rt = runfolder.RunTable(tmp_path, item.stem)
    done = threading.Event()

    def review():
        runfolder.correct_cell(rt, 0, 0, 36, needs_review=False, confirmed=True)
        done.set()

    with runfolder.cells_locked(tmp_path):  # as the harvest does while it merges a table in
        reviewer = threading.Thread(target=review)
        reviewer.start()
        assert not done.wait(0.5)  # blocked on the lock: it has not read the table yet
    assert done.wait(10)
    reviewer.join()
    rows = runfolder.read_cells_file(tmp_path / runfolder.CELLS_CSV)
    assert [r.value for r in rows if (r.row, r.col) == (0, 0)] == [36]


def test_a_table_whose_cells_csv_lines_fail_is_removed_whole(tmp_path, monkeypatch):
    first, second = captured(), captured(page="dark")
    runfolder.add_table(tmp_path, first, screenshots=True, run_id="RUN1")

    def full(folder, rows):
        raise OutputError("disk full while writing cells.csv")

    monkeypatch.setattr(runfolder, "write_cells_file", full)
    with pytest.raises(OutputError, match="disk full"):
        runfolder.add_table(tmp_path, second, screenshots=True, run_id="RUN1")
    assert sorted(p.name for p in tmp_path.iterdir() if "__" in p.name) == [
        "light__main.annotated.png", "light__main.csv", "light__main.json", "light__main.png"]
