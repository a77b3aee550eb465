"""`recognizer read` on a collection: folders, globs, --from-file, source-named outputs, cells.csv, summary.csv."""
from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import pandas as pd
import pytest
from click.testing import CliRunner

from recognizer.cli import cli
from recognizer.inputs import InputsError, Source, gather, read_list, selected
from recognizer.settings import DEFAULT_MODEL
from recognizer.table import read_grid_csv
from tablebot.errors import ExitCode
from tests.tables import Look, random_values, render

needs_model = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model")
LOOK = Look("light", size=16, cell_w=40, cell_h=30)


def run(*args, input=None):
    return CliRunner().invoke(cli, ["read", *map(str, args)], input=input, catch_exceptions=False)


def truth(values):
    return [[None if v < 0 else int(v) for v in row] for row in values]


@pytest.fixture
def collection(tmp_path):
    """pics/a/good.png, pics/b/good.png (a colliding stem), pics/good.png, pics/good.BMP, a non-image
    and a corrupt picture; each good table with its own values."""
    root = tmp_path / "pics"
    (root / "a").mkdir(parents=True)
    (root / "b" / "deep").mkdir(parents=True)
    values = {}
    for i, name in enumerate(["a/good.png", "b/good.png", "good.png", "good.BMP"]):
        values[name] = random_values(rows=3, cols=5, seed=10 + i, empty_tail=1)
        cv2.imwrite(str(root / name), render(values[name], LOOK))
    (root / "b" / "deep" / "broken.jpg").write_bytes((root / "good.png").read_bytes()[:150])
    (root / "notes.txt").write_text("not a picture")
    return root, values


# ---------------------------------------------------------------------------- gathering (no model)

def test_gather_walks_folders_by_suffix_any_case_sorted_by_relative_name(collection):
    root, _ = collection
    assert [s.name for s in gather([root])] == ["a/good.png", "b/deep/broken.jpg", "b/good.png", "good.BMP", "good.png"]


def test_globs_match_the_relative_name(collection):
    root, _ = collection
    assert [s.name for s in gather([root], include=["b/*"])] == ["b/deep/broken.jpg", "b/good.png"]
    assert [s.name for s in gather([root], include=["*.png"], exclude=["a/*", "good.*"])] == ["b/good.png"]
    assert selected("x/y.png", include=["*.png"]) and not selected("x/y.png", exclude=["x/*"])


def test_a_file_is_named_by_its_name_and_the_same_file_twice_is_read_once(collection):
    root, _ = collection
    assert gather([root / "a" / "good.png", root / "a" / ".." / "a" / "good.png"]) == [
        Source("good.png", root / "a" / "good.png")]
    with pytest.raises(InputsError, match="both be named good.png"):
        gather([root / "a" / "good.png", root / "b" / "good.png"])


def test_read_list_skips_blank_lines():
    assert read_list(["a.png\n", "\n", "  b/c.png \r\n"]) == ["a.png", "b/c.png"]


# ---------------------------------------------------------------------------- the command

@pytest.mark.parametrize("name", ["summary", "cells", "collection"])
def test_a_picture_whose_own_outputs_would_overwrite_the_collections_files_is_refused(tmp_path, name):
    cv2.imwrite(str(tmp_path / "t.png"), render(random_values(rows=3, cols=5), LOOK))
    (tmp_path / name).write_bytes((tmp_path / "t.png").read_bytes())
    result = run(tmp_path / name, "--out", tmp_path / "out")
    assert result.exit_code == ExitCode.USAGE and f"{name}'s own outputs would overwrite the collection's files" in result.output


@needs_model
def test_folder_input_writes_distinct_outputs_per_source_and_the_collection_csvs(collection, tmp_path):
    root, values = collection
    out = tmp_path / "out"
    result = run(root, "--out", out)
    assert result.exit_code == ExitCode.INPUT, result.output  # broken.jpg cannot be decoded
    for name, v in values.items():
        with open(out / f"{name}.csv", newline="") as f:
            assert read_grid_csv(f) == truth(v), name
        assert (out / f"{name}.json").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: b/deep/broken.jpg: "), errors
    assert "read 4/5 images" in result.stdout and "1 unreadable" in result.stdout

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["source", "sha256", "rows", "cols", "cells", "flagged", "status", "error"]
    assert list(summary.source) == ["a/good.png", "b/deep/broken.jpg", "b/good.png", "good.BMP", "good.png"]
    assert list(summary.status) == ["read", "unreadable", "read", "read", "read"]
    good = summary.set_index("source").loc["a/good.png"]
    assert (good.rows, good.cols, good.cells) == (3, 5, 14)
    assert good.sha256 == hashlib.sha256((root / "a" / "good.png").read_bytes()).hexdigest()

    cells = pd.read_csv(out / "cells.csv")
    assert list(cells.columns) == ["source", "row", "col", "value", "confidence", "needs_review", "confirmed"]
    assert len(cells) == 4 * 15 and set(cells.source) == set(values)
    assert cells.confirmed.dtype == bool and not cells.confirmed.any()
    for name, v in values.items():
        mine = cells[cells.source == name].sort_values(["row", "col"])
        got = [None if pd.isna(x) else int(x) for x in mine.value]
        assert got == [x for row in truth(v) for x in row], name


@needs_model
def test_include_exclude_and_no_per_picture(collection, tmp_path):
    root, _ = collection
    out = tmp_path / "out"
    result = run(root, "--out", out, "--include", "*.png", "--exclude", "b/*", "--no-per-picture")
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out / "summary.csv").source) == ["a/good.png", "good.png"]
    assert sorted(p.name for p in out.rglob("*")) == [".journal.jsonl", "cells.csv", "collection.json", "summary.csv"]


@needs_model
def test_from_file_on_stdin(collection, tmp_path):
    root, values = collection
    out = tmp_path / "out"
    listing = f"{root / 'good.BMP'}\n\n{root / 'a'}\n"
    result = run("--from-file", "-", "--out", out, input=listing)
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out / "summary.csv").source) == ["good.BMP", "good.png"]  # a/ is a root: good.png
    with open(out / "good.png.csv", newline="") as f:
        assert read_grid_csv(f) == truth(values["a/good.png"])


@needs_model
def test_every_error_line_names_its_file_and_every_picture_without_a_table_fails_the_run(collection, tmp_path):
    import matplotlib.cbook

    root, _ = collection
    blank = root / "b" / "blank.png"
    cv2.imwrite(str(blank), 255 + 0 * render(random_values(3, 5, seed=1), LOOK))
    photo = root / "b" / "photo.jpg"
    photo.write_bytes(Path(matplotlib.cbook._get_data_path("sample_data", "grace_hopper.jpg")).read_bytes())
    out = tmp_path / "out"
    result = run(root / "good.png", "--out", out, "--rows", 4, "--cols", 5)
    assert result.exit_code == ExitCode.INPUT, result.output  # a table of another shape is refused and listed
    assert result.stderr.startswith("error: good.png: ") and "expected 4x5" in result.stderr
    assert list(pd.read_csv(out / "summary.csv").status) == ["refused"] and "1 refused" in result.stdout
    result = run(root / "good.png", blank, photo, "--out", out, "--rows", 4, "--cols", 5)
    assert result.exit_code == ExitCode.INPUT, result.output
    errors = sorted(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert len(errors) == 3
    assert errors[0].startswith("error: blank.png: ") and "no table found" in errors[0]
    assert errors[1].startswith("error: good.png: ") and "expected 4x5" in errors[1]
    assert errors[2].startswith("error: photo.jpg: ")
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.status) == ["no-table", "refused", "no-table"] and summary.error.str.len().min() > 0
    assert len(pd.read_csv(out / "cells.csv")) == 0 and "2 no table" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [".journal.jsonl", "cells.csv", "collection.json", "summary.csv"]  # nothing for them


def test_no_pictures_is_a_usage_error(tmp_path):
    result = run(tmp_path, "--out", tmp_path / "out")
    assert result.exit_code == ExitCode.USAGE and "no pictures" in result.output


def test_a_picture_named_like_a_collection_file_is_a_usage_error(tmp_path):
    (tmp_path / "cells").write_bytes(b"")
    result = run(tmp_path / "cells", "--out", tmp_path / "out")
    assert result.exit_code == ExitCode.USAGE and "overwrite" in result.output


def test_the_progress_bar_shows_only_on_a_terminal(monkeypatch):
    import io
    import sys

    from recognizer import read_cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in [(io.StringIO(), False), (Terminal(), True)]:
        monkeypatch.setattr(sys, "stderr", stream)
        bar, say = read_cli.progress(["a", "b"])
        assert list(bar) == ["a", "b"]
        say("error: a: why")
        assert ("2/2" in stream.getvalue()) == shown and "error: a: why" in stream.getvalue()
