"""`robot review --collection OUT` on a folder written by a real `recognizer read`: the queue, a
correction of cells.csv, the label, undo, the lock, and no model read."""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from recognizer.cli import cli as recognizer_cli
from recognizer.collection import load_collection
from recognizer.errors import FolderBusy
from recognizer.journal import JOURNAL_NAME, Journal
from recognizer.labelset import collection_source, label_id
from recognizer.settings import DEFAULT_MODEL
from robot.review.app import PageSettings, create_app
from robot.review.sources import collection_loader
from robot.review.store import LabelStore
from robot.review.workspace import Workspace
from robot.run import RunParts
from tablebot.errors import DataError, ExitCode
from tests.review_server import serving
from tests.tables import Look, random_values, render

needs_model = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model")
WIDE = (random_values(3, 5, seed=1, empty_tail=1), Look("light", size=16, cell_w=40, cell_h=30))
TALL = (random_values(4, 3, seed=3), Look("dark", size=16, cell_w=40, cell_h=30))


def flagging_threshold() -> str:
    """A review threshold just above the least confident cell of each picture (as the shipped model and
    its second opinion read them: at a threshold T, a cell is flagged where the first is under T and the
    second is not sure of the same number at T or more): each picture has flagged cells, at distinct
    confidences, and few (a picture mostly flagged, or a row or column of it, is refused as unreadable)."""
    from recognizer.predictor import default_reader, prepare

    reader, lowest = default_reader(), []
    for picture in (WIDE, TALL):
        _, inputs, _, _ = prepare(render(*picture), None)
        first = reader.classifier.predict_proba(inputs)
        sure = first.max(axis=1)
        if reader.second is not None:
            second = reader.second.predict_proba(inputs)
            sure = np.where(second.argmax(axis=1) == first.argmax(axis=1), np.maximum(sure, second.max(axis=1)), sure)
        lowest.append(float(sure.min()))
    return repr(max(lowest) + 1e-9)


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """pics/a/wide.png (3x5), pics/a/refused.png (its header read as data: refused), pics/tall.png
    (4x3, another look) read by `recognizer read` into out/; and the threshold it was read with."""
    root = tmp_path_factory.mktemp("collection")
    pics, out = root / "pics", root / "out"
    (pics / "a").mkdir(parents=True)
    cv2.imwrite(str(pics / "a" / "wide.png"), render(*WIDE))
    labels = random_values(3, 5, seed=2)
    labels[:, 0] = [1, 2, 3]  # a column of row labels read as data: refused, whatever the threshold
    cv2.imwrite(str(pics / "a" / "refused.png"), render(labels, WIDE[1]))
    cv2.imwrite(str(pics / "tall.png"), render(*TALL))
    threshold = flagging_threshold()
    result = CliRunner().invoke(recognizer_cli, ["read", str(pics), "--out", str(out), "--jobs", "1",
                                                 "--threshold", threshold], catch_exceptions=False)
    assert result.exit_code == ExitCode.INPUT and "1 refused" in result.output, result.output
    return pics, out, threshold


@pytest.fixture
def out(collection, tmp_path):
    """A fresh copy of the collection's output folder for each test (the pictures stay where they were read)."""
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(collection[1], copy)
    return copy


def cells_rows(out) -> list[dict]:
    with open(out / "cells.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def again_cols(out, source: str) -> int:
    return {p.name: p.table.cols for p in load_collection(out)}[source]


def workspace_of(out, labels):
    return Workspace(LabelStore(labels), collection_loader(out), max_pixels=10_000_000)


def no_model(settings):
    raise AssertionError("the collection's pictures were read by the model again")


@needs_model
def test_the_queue_is_the_flagged_cells_of_every_shape_least_confident_first(out, tmp_path):
    workspace = workspace_of(out, tmp_path / "labels")
    shapes = {d.name: (d.table.rows, d.table.cols) for d in workspace.docs()}
    assert shapes == {"a/wide.png": (3, 5), "tall.png": (4, 3)}  # the refused picture is not reviewed
    queue = workspace.upcoming(None, 1000)
    flagged = {(r["source"], int(r["row"]), int(r["col"])) for r in cells_rows(out) if r["needs_review"] == "true"}
    assert {(workspace.doc(i.doc_key).name, i.row, i.col) for i in queue} == flagged
    assert {workspace.doc(i.doc_key).name for i in queue} == set(shapes)  # both pictures' cells, interleaved by confidence
    assert [i.confidence for i in queue] == sorted(i.confidence for i in queue) and len({i.confidence for i in queue}) > 1
    assert workspace.current() == queue[0] and all(i.needs_review for i in queue)


@needs_model
def test_a_correction_rewrites_one_row_of_cells_csv_atomically_and_undo_restores_it(out, tmp_path):
    labels = tmp_path / "labels"
    app = create_app(workspace_of(out, labels), PageSettings(160, labels, "test"))
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    item = re.search(r'name="item" value="([0-9a-f]+)"', html).group(1)

    before = (out / "cells.csv").read_bytes()
    own_files = {p: p.read_bytes() for p in out.rglob("*.png.*")}  # each picture's grid CSV and JSON
    inode = (out / "cells.csv").stat().st_ino
    ok = client.post("/label", data={"token": token, "item": item, "label": "36"})
    assert ok.status_code == 303
    after = (out / "cells.csv").read_bytes()
    assert (out / "cells.csv").stat().st_ino != inode  # replaced (temp file + rename), not written in place
    changed = [(a, b) for a, b in zip(before.splitlines(True), after.splitlines(True)) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 1  # every other row byte-identical
    old, new = (next(csv.reader([line.decode()])) for line in changed[0])
    assert new[:3] == old[:3] and new[3] == "36" and new[4] == old[4]  # same cell, the model's confidence kept
    assert (old[5], old[6]) == ("true", "false") and (new[5], new[6]) == ("false", "true")

    # The label is in the labelled-cells folder `recognizer finetune` reads, keyed by the picture's content.
    source, row, col = old[0], int(old[1]), int(old[2])
    sha = {p.name: p.sha256 for p in load_collection(out)}[source]
    record = LabelStore(labels).get(item)
    assert item == label_id(collection_source(source, sha, row, col))
    assert record.label == 36 and record.source == collection_source(source, sha, row, col)
    assert (labels / record.image).is_file() and cv2.imread(str(labels / record.image)).size > 0

    # The picture's own grid CSV and JSON are corrected too, the other pictures' left alone.
    changed_files = sorted(p.name for p, data in own_files.items() if p.read_bytes() != data)
    assert changed_files == sorted([f"{Path(source).name}.csv", f"{Path(source).name}.json"])
    own = json.loads((out / f"{source}.json").read_text())["cells"][row * again_cols(out, source) + col]
    assert (own["value"], own["confirmed"], own["needs_review"]) == (36, True, False)

    # Reopened, the corrected cell shows its new value and is no longer flagged in the table.
    again = {p.name: p for p in load_collection(out)}[source].table.cell(row, col)
    assert (again.value, again.confirmed, again.needs_review) == (36, True, False)

    # The table views of both shapes draw the corrected picture from where it was read.
    keys = re.findall(r'href="/table/([^"?]+)"', client.get("/tables").get_data(as_text=True))
    assert len(keys) == 2
    for key in keys:
        assert client.get(f"/table/{key}").status_code == 200 and client.get(f"/table/{key}/screenshot").status_code == 200

    assert client.post("/undo", data={"token": token}).status_code == 303
    assert (out / "cells.csv").read_bytes() == before and LabelStore(labels).get(item) is None
    assert {p: p.read_bytes() for p in own_files} == own_files


@needs_model
def test_a_rerun_of_recognizer_read_keeps_the_corrections_in_cells_csv(out, collection, tmp_path):
    workspace = workspace_of(out, tmp_path / "labels")
    first = workspace.current()
    workspace.label(first.id, "5")
    corrected = (out / "cells.csv").read_bytes()
    result = CliRunner().invoke(recognizer_cli, ["read", str(collection[0]), "--out", str(out), "--jobs", "1",
                                                 "--threshold", collection[2]], catch_exceptions=False)
    assert result.exit_code == ExitCode.INPUT and "3 already read" in result.output, result.output
    assert (out / "cells.csv").read_bytes() == corrected  # not the journal's reading of that cell


def test_corrections_are_kept_only_for_the_same_picture_in_the_same_shape():
    from recognizer.collection import with_corrections
    from recognizer.table import Box, Cell, Table

    table = Table(1, 2, (Cell(0, 0, 3, 0.5, Box(0, 0, 9, 9), needs_review=True), Cell(0, 1, 4, 0.99, Box(9, 0, 9, 9))), "t.png")
    fixes = {("t.png", "aa", 1, 2): {(0, 0): 8}}
    assert with_corrections(table, "aa", fixes).cell(0, 0) == Cell(0, 0, 8, 0.5, Box(0, 0, 9, 9), False, True)
    assert with_corrections(table, "bb", fixes) == table  # the picture changed: read again, not corrected
    assert with_corrections(table, "aa", {("t.png", "aa", 2, 1): {(0, 0): 8}}) == table  # read in another shape


@needs_model
def test_a_label_whose_cells_csv_write_was_lost_is_applied_on_the_next_start(out, tmp_path):
    labels = tmp_path / "labels"
    before = (out / "cells.csv").read_bytes()
    workspace = workspace_of(out, labels)
    first = workspace.current()
    workspace.label(first.id, "5")
    corrected = (out / "cells.csv").read_bytes()
    (out / "cells.csv").write_bytes(before)  # as if the tool stopped between the label and cells.csv
    workspace_of(out, labels)
    assert (out / "cells.csv").read_bytes() == corrected


def busy():
    return pytest.raises(FolderBusy, match="a recognizer read is writing to .*: wait for it to finish")


@needs_model
def test_while_a_read_holds_the_folder_review_opening_a_correction_or_undo_is_refused(out, tmp_path):
    with Journal(out / JOURNAL_NAME, "a read in progress"), busy():
        workspace_of(out, tmp_path / "labels")  # not opened while a read runs
    workspace = workspace_of(out, tmp_path / "labels")
    before = (out / "cells.csv").read_bytes()
    with Journal(out / JOURNAL_NAME, "a read in progress"), busy():
        workspace.label(workspace.current().id, "7")
    assert (out / "cells.csv").read_bytes() == before and len(LabelStore(tmp_path / "labels")) == 0
    first = workspace.current()
    workspace.label(first.id, "7")
    with Journal(out / JOURNAL_NAME, "a read in progress"), busy():
        workspace.undo()
    assert workspace.can_undo() and LabelStore(tmp_path / "labels").get(first.id).label == 7
    workspace.undo()  # once the read has finished
    assert (out / "cells.csv").read_bytes() == before and len(LabelStore(tmp_path / "labels")) == 0


@needs_model
def test_a_picture_gone_since_the_read_is_named(out, tmp_path):
    text = (out / "collection.json").read_text().replace("/tall.png\"", "/gone.png\"")
    (out / "collection.json").write_text(text)
    with pytest.raises(DataError, match=r"gone\.png \(tall\.png of .*\) is gone: put it back"):
        workspace_of(out, tmp_path / "labels")


@needs_model
def test_a_folder_read_before_collection_json_existed_says_to_read_it_again(out, tmp_path):
    (out / "collection.json").unlink()
    with pytest.raises(DataError, match=r"collection\.json not found \(an older recognizer read\): run the same recognizer read again"):
        workspace_of(out, tmp_path / "labels")


# ------------------------------------------------------------------ the command

def review(args, tmp_path, capsys):
    """`robot review ...` through the real console entry, with a reader factory that fails if called."""
    from robot.cli import main

    config = tmp_path / "config.yaml"
    config.write_text("pages:\n  - {name: p, path: /t, tables: [{name: main, selector: '#t'}]}\n"
                      f"output: {{folder: {tmp_path / 'runs'}}}\nreview: {{port: 0, labels_folder: {tmp_path / 'labels'}}}\n")
    argv = sys.argv
    sys.argv = ["robot", "review", "--config", str(config), *map(str, args)]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(RunParts(load_reader=no_model))
    finally:
        sys.argv = argv
    return exit_info.value.code, capsys.readouterr().err


def test_a_folder_that_is_not_a_collection_is_one_line_error(tmp_path, capsys):
    (tmp_path / "pics").mkdir()
    cv2.imwrite(str(tmp_path / "pics" / "t.png"), render(random_values(3, 5, seed=1)))
    code, err = review(["--collection", tmp_path / "pics"], tmp_path, capsys)
    assert code == ExitCode.INPUT
    expected = (f"error: {tmp_path / 'pics'} is not a collection (no cells.csv, summary.csv and .journal.jsonl): "
                "give the --out folder of a `recognizer read`")
    assert err.strip().splitlines() == [expected]


def test_collection_is_exclusive_with_images_and_run(tmp_path, capsys):
    (tmp_path / "c").mkdir()
    code, err = review(["--collection", tmp_path / "c", "--images", tmp_path / "c"], tmp_path, capsys)
    assert code == ExitCode.CONFIG and "give one of --collection, --images and --run, not several" in err
    code, err = review(["--collection", tmp_path / "c", "--run", "20240102T030405Z-a1b2c3"], tmp_path, capsys)
    assert code == ExitCode.CONFIG and "not several" in err


@needs_model
def test_robot_review_collection_serves_the_queue_and_saves_a_correction_without_the_model(out, tmp_path):
    """The real command in its own process, with a reader factory that exits the process if called."""
    import urllib.parse
    import urllib.request

    config = tmp_path / "config.yaml"
    config.write_text("pages:\n  - {name: p, path: /t, tables: [{name: main, selector: '#t'}]}\n"
                      f"output: {{folder: {tmp_path / 'runs'}}}\nreview: {{port: 0, labels_folder: {tmp_path / 'labels'}}}\n")
    script = ("import sys\nfrom robot.cli import main\nfrom robot.run import RunParts\n"
              "def no_model(settings):\n    sys.exit('the model was loaded')\n"
              "main(RunParts(load_reader=no_model))\n")
    flagged = sum(r["needs_review"] == "true" for r in cells_rows(out))
    with serving([sys.executable, "-c", script, "review", "--config", str(config), "--collection", str(out)]) as served:
        assert f"{flagged} to label, 0 done" in served.banner and "cells flagged in the collection" in served.banner
        html = urllib.request.urlopen(served.url, timeout=10).read().decode()
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        item = re.search(r'name="item" value="([0-9a-f]+)"', html).group(1)
        form = urllib.parse.urlencode({"token": token, "item": item, "label": "0"})
        urllib.request.urlopen(served.url + "label", data=form.encode(), timeout=10)
    assert served.returncode == 0, served.rest
    assert LabelStore(tmp_path / "labels").get(item).label == 0
    assert sum(r["confirmed"] == "true" for r in cells_rows(out)) == 1
