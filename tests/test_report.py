"""`robot report`: merging the runs' long CSVs, the frequency summary and the plot (robot/report.py)."""
from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from robot.commands.report import parse_moment
from robot.report import (
    Period,
    ReportFiles,
    frequency,
    merge_cells,
    plot_frequency,
    read_cells,
    select_period,
    write_cells,
)
from robot.runfolder import find_cells_files
from tablebot.errors import DataError, ExitCode
from tests.robot_fakes import robot_cli

HEADER = "run_id,captured_at,page,table,row,col,value,confidence,needs_review,confirmed\n"


def long_csv(run_id: str, at: str, values: list[int | None], page: str = "light", table: str = "main",
             flagged: set[int] = frozenset(), yes: str = "true", no: str = "false") -> str:
    lines = [f"{run_id},{at},{page},{table},0,{c},{'' if v is None else v},{0.5 if c in flagged else 0.99},"
             f"{yes if c in flagged else no},{no}\n" for c, v in enumerate(values)]
    return HEADER + "".join(lines)


def write_run(output: Path, run_id: str, text: str) -> Path:
    (output / run_id).mkdir(parents=True, exist_ok=True)
    path = output / run_id / "cells.csv"
    path.write_text(text)
    return path


def test_read_cells_types_every_column():
    frame = read_cells(io.StringIO(long_csv("R1", "2026-11-20T08:00:01.250Z", [5, None, 36], flagged={2})))
    assert frame["value"].fillna(-1).tolist() == [5, -1, 36]
    assert frame["value"].dtype == "Int64" and frame["row"].dtype.kind == "i"
    assert frame["needs_review"].tolist() == [False, False, True] and not frame["confirmed"].any()
    assert frame["captured_at"][0] == pd.Timestamp("2026-11-20T08:00:01.250Z")


def test_a_csv_that_is_not_ours_is_refused():
    with pytest.raises(DataError, match="x.csv: the header must be run_id,captured_at,"):
        read_cells(io.StringIO("a,b\n1,2\n"), "x.csv")


def test_spellings_the_robot_never_writes_are_refused_with_the_line():
    with pytest.raises(DataError, match=r"x.csv line 2: 'True' is not true or false"):
        read_cells(io.StringIO(long_csv("R1", "2026-11-20T08:00:01.250Z", [5], flagged={0}, yes="True")), "x.csv")


def test_merge_orders_by_time_and_keeps_each_cell_of_each_run_once():
    late = read_cells(io.StringIO(long_csv("R2", "2026-11-21T08:00:00.000Z", [1, 2])))
    early = read_cells(io.StringIO(long_csv("R1", "2026-11-20T08:00:00.000Z", [3, 4])))
    merged = merge_cells([late, early, early, read_cells(io.StringIO(HEADER))])
    assert merged["run_id"].tolist() == ["R1", "R1", "R2", "R2"] and merged["value"].tolist() == [3, 4, 1, 2]
    assert merge_cells([]).empty


def test_select_period_since_inclusive_until_exclusive():
    cells = merge_cells([read_cells(io.StringIO(long_csv(f"R{d}", f"2026-11-{d:02d}T12:00:00.000Z", [d])))
                         for d in (1, 2, 3, 4)])
    period = Period(parse_moment("2026-11-02"), parse_moment("2026-11-03", end_of_day=True))
    assert select_period(cells, period)["value"].tolist() == [2, 3]
    assert select_period(cells, Period(parse_moment("2026-11-02T12:00"), parse_moment("2026-11-04T12:00:00Z")))[
        "value"].tolist() == [2, 3]
    assert len(select_period(cells, Period())) == 4


def test_parse_moment():
    assert parse_moment("2026-11-30") == datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert parse_moment("2026-11-30", end_of_day=True) == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_moment("2026-11-30T14:05") == datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)
    assert parse_moment("2026-11-30T14:05:00+01:00") == datetime(2026, 11, 30, 13, 5, tzinfo=timezone.utc)
    with pytest.raises(Exception, match="not a date"):
        parse_moment("yesterday")


def test_frequency_lists_every_number_with_count_share_and_flags():
    cells = read_cells(io.StringIO(long_csv("R1", "2026-11-20T08:00:00.000Z", [7, 7, 0, None, 36], flagged={1})))
    freq = frequency(cells)
    assert freq["value"].tolist() == list(range(37))
    assert freq.set_index("value").loc[7].tolist() == [2, 0.5, 1]
    assert freq["count"].sum() == 4 and freq.set_index("value").loc[5, "count"] == 0
    assert frequency(cells.iloc[0:0])["count"].sum() == 0


def test_plot_frequency_is_a_png():
    cells = read_cells(io.StringIO(long_csv("R1", "2026-11-20T08:00:00.000Z", [1, 2, 2, 3])))
    buffer = io.BytesIO()
    plot_frequency(frequency(cells), buffer, "test")
    image = cv2.imdecode(np.frombuffer(buffer.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    assert buffer.getvalue().startswith(b"\x89PNG") and image.shape[1] > image.shape[0] > 200


def test_written_cells_keep_the_robots_format():
    text = long_csv("R1", "2026-11-20T08:00:01.250Z", [5, None], flagged={0})
    out = io.StringIO()
    write_cells(read_cells(io.StringIO(text)), out)
    assert out.getvalue().splitlines() == [
        HEADER.strip(),
        "R1,2026-11-20T08:00:01.250Z,light,main,0,0,5,0.5000,true,false",
        "R1,2026-11-20T08:00:01.250Z,light,main,0,1,,0.9900,false,false",
    ]


def test_find_cells_files_skips_hidden_folders(tmp_path):
    write_run(tmp_path, "R2", HEADER)
    write_run(tmp_path, "R1", HEADER)
    write_run(tmp_path, ".trash", HEADER)
    assert [p.parent.name for p in find_cells_files(tmp_path)] == ["R1", "R2"]
    assert find_cells_files(tmp_path / "missing") == []


def test_report_files_sit_beside_the_csv():
    files = ReportFiles.beside(Path("out/report.csv"))
    assert (files.frequency, files.plot) == (Path("out/report.frequency.csv"), Path("out/report.png"))


# ---------------------------------------------------------------------------- the command

def test_report_command_merges_filters_and_writes_three_files(write_config, tmp_path, monkeypatch, capsys):
    config = write_config()
    runs = tmp_path / "runs"
    write_run(runs, "R1", long_csv("R1", "2026-11-01T08:00:00.000Z", [1, 1, 1]))
    write_run(runs, "R2", long_csv("R2", "2026-11-02T08:00:00.000Z", [2, None, 36], flagged={2}))
    write_run(runs, "R3", long_csv("R3", "2026-11-03T08:00:00.000Z", [3, 3, 3], page="dark"))
    write_run(runs, "R4", "garbage\n\"unclosed")  # a broken file is skipped with a warning
    out = tmp_path / "export" / "nov.csv"
    code, stdout, err = robot_cli(monkeypatch, capsys, "report", "--config", str(config), "--since", "2026-11-02",
                                  "--until", "2026-11-03", "--out", str(out))
    assert code == 0, err
    merged = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert merged["run_id"].tolist() == ["R2"] * 3 + ["R3"] * 3 and merged["value"].tolist() == ["2", "", "36", "3", "3", "3"]
    freq = pd.read_csv(tmp_path / "export" / "nov.frequency.csv")
    assert freq.set_index("value").loc[3, "count"] == 3 and freq.set_index("value").loc[36, "flagged"] == 1
    assert (tmp_path / "export" / "nov.png").read_bytes().startswith(b"\x89PNG")
    assert "6 cells (5 read, 1 flagged) from 2 tables of 2 runs" in stdout and "most frequent: 3 (3x)" in stdout
    assert "skipped" in err and "R4" in err


def test_report_with_nothing_in_the_period_says_so(write_config, tmp_path, monkeypatch, capsys):
    config = write_config()
    write_run(tmp_path / "runs", "R1", long_csv("R1", "2026-11-01T08:00:00.000Z", [1]))
    code, _, err = robot_cli(monkeypatch, capsys, "report", "--config", str(config), "--since", "2027-01-01",
                             "--out", str(tmp_path / "r.csv"))
    assert code == ExitCode.INPUT and "no cells captured from 2027-01-01" in err and "widen --since/--until" in err
    assert not (tmp_path / "r.csv").exists()


def test_report_without_runs(write_config, tmp_path, monkeypatch, capsys):
    config = write_config({"output": {"folder": str(tmp_path / "empty")}})
    code, _, err = robot_cli(monkeypatch, capsys, "report", "--config", str(config))
    assert code == ExitCode.INPUT and "harvest first" in err


def test_importing_the_report_command_does_not_import_matplotlib():
    code = "import sys, robot.report; sys.exit(1 if 'matplotlib' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
