"""`recognizer read` resumes: the journal in the output folder, reruns, kill -9, SIGTERM, torn lines."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from recognizer.errors import FolderBusy
from recognizer.journal import JOURNAL_NAME, Journal, load
from tablebot.errors import ExitCode
from tests.tables import random_values, render
from tests.test_collection import LOOK, collection, needs_model, run  # noqa: F401 (collection: a fixture)

ROOT = Path(__file__).resolve().parents[1]


def already_read(result) -> int:
    return int(re.search(r"(\d+) already read", result.stdout).group(1))


def outputs(out: Path) -> tuple[bytes, bytes]:
    return (out / "cells.csv").read_bytes(), (out / "summary.csv").read_bytes()


def journal_lines(out: Path) -> list[bytes]:
    path = out / JOURNAL_NAME
    return path.read_bytes().splitlines() if path.exists() else []


@pytest.fixture
def many(tmp_path):
    """20 small pictures (one of them refused: its second column looks like labels)."""
    root = tmp_path / "many"
    root.mkdir()
    for i in range(20):
        cv2.imwrite(str(root / f"t{i:02d}.png"), render(random_values(rows=3, cols=5, seed=i), LOOK))
    return root


# Runs the real command in a child process, each journal line followed by a pause, so that the
# parent can kill it halfway through the pictures rather than after the last one.
SLOW_CHILD = """
import sys, time
import recognizer.journal as journal
add = journal.Journal.add
def slow_add(self, *args):
    add(self, *args)
    time.sleep(0.05)
journal.Journal.add = slow_add
from recognizer.cli import main
sys.argv = ["recognizer", "read", *sys.argv[1:]]
main()
"""


def start_slow(pics: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SLOW_CHILD, str(pics), "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_journal(child: subprocess.Popen, out: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not journal_lines(out):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "no journal line in time"
        time.sleep(0.005)


# ---------------------------------------------------------------------------- reruns

@needs_model
def test_a_rerun_reads_nothing_new_and_gives_the_same_files(collection, tmp_path):  # noqa: F811 (the fixture)
    root, _ = collection
    out = tmp_path / "out"
    first = run(root, "--out", out)
    assert already_read(first) == 0 and len(journal_lines(out)) == 5  # broken.jpg too: same bytes, same outcome
    before = outputs(out)
    (out / "a" / "good.png.csv").write_text("left alone\n")
    (out / "good.png.json").unlink()

    again = run(root, "--out", out)
    assert already_read(again) == 5 and len(journal_lines(out)) == 5
    assert outputs(out) == before
    assert again.exit_code == first.exit_code == ExitCode.INPUT  # broken.jpg is still unreadable, and says so
    assert [l for l in again.stderr.splitlines() if l.startswith("error:")] == [
        l for l in first.stderr.splitlines() if l.startswith("error:")]
    assert (out / "a" / "good.png.csv").read_text() == "left alone\n"  # a skipped picture's files are not rewritten
    assert json.loads((out / "good.png.json").read_text())["source"] == "good.png"  # a missing one is


@needs_model
def test_a_changed_threshold_rereads_everything_and_each_setting_resumes(collection, tmp_path):  # noqa: F811 (the fixture)
    root, _ = collection
    out = tmp_path / "out"
    run(root, "--out", out)
    assert already_read(run(root, "--out", out, "--threshold", 0.5)) == 0
    assert already_read(run(root, "--out", out, "--threshold", 0.5)) == 5
    assert already_read(run(root, "--out", out)) == 5
    assert already_read(run(root, "--out", out, "--rows", 3, "--cols", 5)) == 0


@needs_model
def test_only_new_or_changed_pictures_are_read(collection, tmp_path):  # noqa: F811 (the fixture)
    root, _ = collection
    out = tmp_path / "out"
    run(root, "--out", out)
    cv2.imwrite(str(root / "new.png"), render(random_values(rows=3, cols=5, seed=99), LOOK))
    cv2.imwrite(str(root / "good.png"), render(random_values(rows=3, cols=5, seed=98), LOOK))
    result = run(root, "--out", out)
    assert already_read(result) == 4  # of 6: new.png and the changed good.png are read
    fresh = tmp_path / "fresh"
    run(root, "--out", fresh)
    assert outputs(out) == outputs(fresh)


@needs_model
def test_a_torn_journal_line_is_ignored(collection, tmp_path):  # noqa: F811 (the fixture)
    root, _ = collection
    out = tmp_path / "out"
    run(root, "--out", out)
    before = outputs(out)
    path = out / JOURNAL_NAME
    data = path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last + (len(data) - last) // 2])  # the last line cut in half, as kill -9 leaves it

    assert already_read(run(root, "--out", out)) == 4
    assert outputs(out) == before
    assert already_read(run(root, "--out", out)) == 5  # the line appended after the torn one is whole


def test_the_journal_keeps_only_whole_lines_of_its_own_fingerprint(tmp_path):
    path = tmp_path / JOURNAL_NAME
    with Journal(path, "mine") as journal:
        journal.add("a" * 64, "refused", "no table found", None)
    with Journal(path, "other") as journal:
        journal.add("b" * 64, "refused", "no table found", None)
    with open(path, "ab") as f:
        f.write(b'[1, 2]\n{"v": 1, "sha256": "ccc", "fingerprint": "mine", "sta')
    with Journal(path, "mine") as journal:
        journal.add("d" * 64, "unreadable", "corrupt", None)
    assert sorted(load(path, "mine")) == ["a" * 64, "d" * 64]
    assert load(path, "mine")["d" * 64].error == "corrupt" and list(load(path, "other")) == ["b" * 64]


# ---------------------------------------------------------------------------- interruptions

@needs_model
def test_kill_9_halfway_then_a_rerun_gives_exactly_one_uninterrupted_run(many, tmp_path):
    whole = tmp_path / "whole"
    assert run(many, "--out", whole).exit_code == ExitCode.INPUT  # the one refused says so
    out = tmp_path / "out"
    child = start_slow(many, out)
    wait_for_journal(child, out)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    done = len(journal_lines(out))
    assert 1 <= done < 20
    assert not (out / "cells.csv").exists() and not (out / "summary.csv").exists()
    assert not [p for p in out.rglob(".*") if p.name != JOURNAL_NAME]  # no temp file left behind

    result = run(many, "--out", out)
    assert result.exit_code == ExitCode.INPUT, result.output
    assert already_read(result) >= done - 1  # the line in flight, if torn, is read again
    assert outputs(out) == outputs(whole)
    for grid in whole.glob("*.png.csv"):
        assert (out / grid.name).read_bytes() == grid.read_bytes()


@needs_model
def test_sigterm_stops_with_one_line_and_keeps_the_previous_collection_files(many, tmp_path):
    out = tmp_path / "out"
    previous = (b"source,row,col,value,confidence,needs_review,confirmed\n", b"previous summary\n")
    out.mkdir()
    (out / "cells.csv").write_bytes(previous[0])
    (out / "summary.csv").write_bytes(previous[1])
    child = start_slow(many, out)
    wait_for_journal(child, out)
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == ExitCode.INTERRUPTED, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: interrupted") and "run the same command again" in last, stderr
    assert "Traceback" not in stderr and "read " not in stdout
    assert outputs(out) == previous
    done = len(journal_lines(out))
    assert 1 <= done < 20
    assert already_read(run(many, "--out", out)) == done  # SIGTERM never tears a line


@needs_model
def test_a_second_run_on_the_same_folder_is_refused_while_one_runs(many, tmp_path):
    out = tmp_path / "out"
    with Journal(out / JOURNAL_NAME, "held"), pytest.raises(FolderBusy, match="another recognizer read is writing"):
        run(many, "--out", out)  # the flock held here, as by a run in another process
    assert FolderBusy.exit_code == ExitCode.LOCKED
    assert not (out / "cells.csv").exists()
    assert run(many, "--out", out).exit_code == ExitCode.INPUT  # released with its holder (and one refused)


def test_a_new_second_opinion_is_a_new_fingerprint(tmp_path):
    """The second opinion decides which cells are flagged: adding or changing MODEL.second.* beside
    the model makes a rerun read the pictures again, as a new model does."""
    from recognizer.journal import fingerprint
    from recognizer.settings import ModelSettings, TableShape

    for suffix in (".keras", ".tflite", ".json"):
        (tmp_path / f"m{suffix}").write_bytes(b"first")
    settings, shape = ModelSettings(path=tmp_path / "m.keras"), TableShape()
    alone = fingerprint(settings, shape)
    (tmp_path / "m.second.keras").write_bytes(b"second")
    with_second = fingerprint(settings, shape)
    (tmp_path / "m.second.tflite").write_bytes(b"second")
    assert len({alone, with_second, fingerprint(settings, shape)}) == 3
    assert fingerprint(settings, shape) == fingerprint(settings, shape)
