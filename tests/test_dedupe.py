"""Idempotent output: robot/dedupe.py and run_once never writing a table twice, also across a cut-off run."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.imageio import decode_png
from recognizer.table import Box, Cell, Table
from robot.config import load_config
from robot.dedupe import (
    CaptureIndex,
    image_digest,
    table_digest,
    values_digest,
)
from robot.ledger import Ledger, RunStatus, recover_cut_off_runs
from robot.results import Unchanged
from robot.run import RunParts, run_once
from robot.runfolder import read_cells_file, tables_in
from tests.robot_fakes import (
    FAKE_PASSWORD,
    FAKE_USER,
    FakeOpener,
    FakeReader,
    fake_parts,
    grid_png,
)

STEMS = ["light__main", "dark__main", "roulette__main", "roulette__small", "zebra__main"]


def test_image_digest_follows_the_pixels_not_the_png_encoding():
    png = grid_png(2, 3)
    image = decode_png(png)
    ok, recompressed = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok and recompressed.tobytes() != png
    assert image_digest(decode_png(recompressed.tobytes())) == image_digest(image)
    changed = image.copy()
    changed[5, 5] = 7
    assert image_digest(changed) != image_digest(image)
    assert image_digest(image[:, :, 0]) != image_digest(image)  # shape counts


def test_values_digest_is_the_same_from_a_table_and_from_its_cells_csv(tmp_path):
    cells = tuple(Cell(r, c, None if (r, c) == (1, 2) else r * 3 + c, 0.9, Box(c, r, 1, 1), False)
                  for r in range(2) for c in range(3))
    table = Table(2, 3, cells)
    (tmp_path / "cells.csv").write_text(
        "run_id,captured_at,page,table,row,col,value,confidence,needs_review,confirmed\n"
        + "".join(f"R,2026-01-01T00:00:00.000Z,p,t,{c.row},{c.col},{'' if c.value is None else c.value},0.9,false,false\n"
                  for c in reversed(cells)))
    (found,) = tables_in(read_cells_file(tmp_path / "cells.csv")).values()
    grid = found.grid
    assert grid == [[0, 1, 2], [3, 4, None]] and values_digest(grid) == table_digest(table)
    assert values_digest([[0, 1, 2], [3, 4, 5]]) != table_digest(table)
    assert values_digest([[0, 1, 2, 3, 4]]) != values_digest([[0, 1], [2, 3], [4, None]])


def test_the_index_finds_by_image_or_values_per_page_and_table(tmp_path):
    index = CaptureIndex.in_folder(tmp_path)
    assert index.seen_image("light", "main", "i1") is None  # nothing yet, nothing created
    index.record("light", "main", image_sha256="i1", values_sha256="v1", run_id="R1", captured_at="2026-01-01T00:00:00Z")
    index.record("light", "main", image_sha256="i1", values_sha256="v1", run_id="R2", captured_at="2026-01-02T00:00:00Z")
    assert index.seen_image("light", "main", "i1").run_id == "R1"  # the first capture stays
    assert index.seen_values("light", "main", "v1").by == "values"
    assert index.seen_image("dark", "main", "i1") is None and index.seen_values("light", "small", "v1") is None


# ---------------------------------------------------------------------------- run_once, twice

@pytest.fixture
def config(write_config, monkeypatch):
    monkeypatch.setenv("ROBOT_USERNAME", FAKE_USER)
    monkeypatch.setenv("ROBOT_PASSWORD", FAKE_PASSWORD)
    return load_config(write_config({"target": {"kind": "url", "url": "http://fake.test"},
                                     "browser": {"wait_timeout_s": 0.3}, "retry": {"backoff_s": 0.01}}))


@pytest.fixture
def fake_browser(fake_driver):
    return fake_driver


@pytest.fixture
def parts(fake_driver, reader) -> RunParts:
    return fake_parts(reader, FakeOpener(fake_driver))


def all_cells(output: Path) -> list[dict]:
    rows = []
    for path in sorted(output.glob("*/cells.csv")):
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    return rows


def test_a_second_run_of_an_unchanged_site_writes_nothing_again(parts, config, fake_browser, reader):
    first = run_once(config, parts=parts)
    assert len(first.tables) == 5 and not first.unchanged
    reader.calls.clear()
    second = run_once(config, parts=parts)
    assert second.ok and second.tables == () and reader.calls == []  # skipped before recognition
    assert [(u.stem, u.same_as_run, u.by) for u in second.unchanged] == [(s, first.run_id, "image") for s in STEMS]
    assert sorted(p.name for p in second.folder.iterdir()) == ["cells.csv", "run.json"]
    summary = json.loads((second.folder / "run.json").read_text())
    assert summary["totals"]["unchanged"] == 5 and summary["unchanged"][0]["same_as_run"] == first.run_id
    run = Ledger.in_folder(config.output.folder).run(second.run_id)
    assert run.status is RunStatus.OK and (run.counts.pages, run.counts.tables, run.counts.unchanged) == (4, 0, 5)
    assert len(all_cells(config.output.folder)) == 520


def test_same_values_from_another_image_are_not_written_again(parts, config, fake_browser, reader):
    first = run_once(config, parts=parts)
    light = fake_browser.site.tables["/tables/light"]["#table-main"]
    light.png = grid_png(8, 15, cell_w=32)  # looks different, reads the same
    second = run_once(config, parts=parts)
    assert [(u.stem, u.by) for u in second.unchanged if u.page == "light"] == [("light__main", "values")]
    third = run_once(config, parts=parts)  # the new image is known now: skipped before recognition
    assert [(u.stem, u.by) for u in third.unchanged if u.page == "light"] == [("light__main", "image")]
    assert len(all_cells(config.output.folder)) == 520 and first.ok


def test_changed_values_are_written(parts, config, fake_browser, reader, monkeypatch):
    run_once(config, parts=parts)
    shifted = FakeReader(values=lambda page, table: [[(r + c + 1) % 37 for c in range(15 if table == "main" else 10)]
                                                      for r in range(8 if table == "main" else 4)])
    parts = fake_parts(shifted, FakeOpener(fake_browser))
    fake_browser.site.tables["/tables/zebra"]["#table-main"].png = grid_png(8, 15, cell_h=21)
    second = run_once(config, parts=parts)
    assert [t.stem for t in second.tables] == ["zebra__main"]  # new image, new values
    assert len(all_cells(config.output.folder)) == 640


def test_deduplicate_off_writes_everything_again(parts, config, fake_browser, reader):
    run_once(config, parts=parts)
    again = run_once(config, parts=parts, deduplicate=False)
    assert len(again.tables) == 5 and not again.unchanged


class Killed(BaseException):
    """Stands for the process dying (power loss, kill -9): nothing in the run catches it."""


def test_a_run_cut_off_between_writing_and_indexing_is_neither_lost_nor_duplicated(parts, config, fake_browser, reader,
                                                                                   monkeypatch):
    real_record = CaptureIndex.record
    recorded = []

    def dies_on_the_third(self, page, table, **kw):
        if len(recorded) == 2:
            raise Killed()
        recorded.append((page, table))
        real_record(self, page, table, **kw)

    monkeypatch.setattr(CaptureIndex, "record", dies_on_the_third)
    with pytest.raises(Killed):
        run_once(config, parts=parts)
    monkeypatch.setattr(CaptureIndex, "record", real_record)
    (cut,) = Ledger.in_folder(config.output.folder).last_runs()
    assert cut.status is RunStatus.RUNNING
    cut_rows = all_cells(config.output.folder)
    assert {(r["page"], r["table"]) for r in cut_rows} == {("light", "main"), ("dark", "main"), ("roulette", "main")}

    assert recover_cut_off_runs(config.output.folder) == [cut.run_id]  # what `robot run`/`run-once` do first
    after = run_once(config, parts=parts)
    assert [u.stem for u in after.unchanged] == ["light__main", "dark__main", "roulette__main"]
    assert [t.stem for t in after.tables] == ["roulette__small", "zebra__main"]
    rows = all_cells(config.output.folder)
    keys = [(r["page"], r["table"], r["row"], r["col"]) for r in rows]
    assert len(keys) == len(set(keys)) == 520  # every cell once: none lost, none twice
    assert Ledger.in_folder(config.output.folder).run(cut.run_id).status is RunStatus.ABANDONED


def test_unchanged_tables_show_in_progress(parts, config, fake_browser, reader):
    run_once(config, parts=parts)
    progress = []
    run_once(config, parts=parts, on_progress=progress.append)
    assert [(p.done, p.total) for p in progress] == [(i, 5) for i in range(1, 6)]
    assert all(isinstance(p.item, Unchanged) for p in progress)


def test_image_digest_of_a_blank_image_is_stable():
    a = np.zeros((3, 4, 3), np.uint8)
    assert image_digest(a) == image_digest(a.copy()) and len(image_digest(a)) == 64
