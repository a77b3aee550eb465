"""robot.check: comparing written CSVs with true values."""
from __future__ import annotations

import pytest

from recognizer.table import Box, Cell, Table, write_grid_csv, write_table_json
from robot.check import DemoCheck, check_run, check_table
from tablebot.errors import DataError

TRUTH = [[1, 2, 3], [4, 5, None]]


def test_all_right():
    check = check_table("p", "t", TRUTH, [[False] * 3] * 2, TRUTH)
    assert (check.cells, check.wrong, check.wrong_unflagged, check.accuracy) == (6, 0, 0, 1.0)


def test_wrong_cells_flagged_and_not():
    read = [[1, 2, 9], [4, None, None]]  # (0,2) wrong and flagged, (1,1) read as empty and not flagged
    flags = [[False, False, True], [False, False, False]]
    check = check_table("p", "t", read, flags, TRUTH)
    assert (check.wrong, check.wrong_unflagged) == (2, 1)


def test_a_different_shape_is_all_wrong():
    check = check_table("p", "t", [[1, 2, 3]], [[False] * 3], TRUTH)
    assert (check.wrong, check.wrong_unflagged) == (6, 6)


def test_pass_needs_accuracy_and_no_unflagged_wrong_cell():
    good = check_table("p", "t", TRUTH, [[False] * 3] * 2, TRUTH)
    flagged_wrong = check_table("p", "u", [[1, 2, 9], [4, 5, None]], [[False, False, True], [False] * 3], TRUTH)
    assert DemoCheck((good,)).passed
    assert not DemoCheck((good, flagged_wrong)).passed  # 11/12 < 99%
    assert DemoCheck((good, flagged_wrong), min_accuracy=0.9).passed
    assert not DemoCheck(()).passed


def test_check_run_reads_the_written_files(tmp_path):
    cells = tuple(Cell(r, c, v, 0.5, Box(0, 0, 1, 1), (r, c) == (0, 2))
                  for r, row in enumerate([[1, 2, 9], [4, 5, None]]) for c, v in enumerate(row))
    table = Table(2, 3, cells)
    with open(tmp_path / "p__t.csv", "w", newline="") as f:
        write_grid_csv(table, f)
    with open(tmp_path / "p__t.json", "w") as f:
        write_table_json(table, f)
    report = check_run(tmp_path, [("p", "t")], lambda page, name: TRUTH, min_accuracy=0.8)
    assert (report.wrong, report.wrong_unflagged, report.passed) == (1, 0, True)


def test_check_run_names_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read .*p__t"):
        check_run(tmp_path, [("p", "t")], lambda page, name: TRUTH)
