"""`recognizer read --jobs N`: a pool of worker processes gives the outputs of one process."""
from __future__ import annotations

import cv2
import pandas as pd
import pytest

from recognizer.errors import ModelError
from recognizer.journal import JOURNAL_NAME
from tests.tables import random_values, render
from tests.test_collection import LOOK, collection, needs_model, run  # noqa: F401 (collection: a fixture)


@needs_model
def test_two_jobs_give_the_bytes_of_one_job_and_the_same_messages(collection, tmp_path):  # noqa: F811 (the fixture)
    root, _ = collection  # 4 good tables and a corrupt picture (unreadable)
    cv2.imwrite(str(root / "b" / "blank.png"), 255 + 0 * render(random_values(3, 5, seed=1), LOOK))  # no table
    refused = random_values(rows=3, cols=5, seed=2)  # its second column looks like labels
    cv2.imwrite(str(root / "a" / "refused.png"), render(refused, LOOK))
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        result = run(root, "--out", out, "--jobs", jobs)
        outs[jobs] = (result.exit_code, result.output.replace(str(out), "OUT"), (out / "cells.csv").read_bytes(),
                      (out / "summary.csv").read_bytes(), (out / "a" / "good.png.json").read_bytes())
    assert outs[2] == outs[1]
    summary = pd.read_csv(tmp_path / "out2" / "summary.csv", keep_default_na=False)
    assert {"read", "refused", "no-table", "unreadable"} <= set(summary.status), summary
    # a rerun with a pool reads nothing new
    again = run(root, "--out", tmp_path / "out2", "--jobs", 2)
    assert "7 already read" in again.output and (tmp_path / "out2" / "cells.csv").read_bytes() == outs[1][2]
    assert len((tmp_path / "out2" / JOURNAL_NAME).read_bytes().splitlines()) == 7


@needs_model
def test_a_model_that_cannot_load_in_the_workers_is_reported_not_hung(collection, tmp_path):  # noqa: F811 (the fixture)
    root, _ = collection
    with pytest.raises(ModelError, match="not found"):  # the CLI's error handler makes it exit code MODEL
        run(root, "--out", tmp_path / "out", "--jobs", 2, "--model", tmp_path / "missing.keras")
