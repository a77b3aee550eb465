"""`recognizer read`: CSV grid + JSON per image; bad files get one line each and the rest are still read."""
import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from recognizer.cli import cli
from recognizer.settings import DEFAULT_MODEL
from recognizer.table import read_grid_csv
from tablebot.errors import ExitCode
from tests.tables import Look, random_values, render

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model")


def run(*args):
    return CliRunner().invoke(cli, ["read", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def images(tmp_path):
    values = random_values(rows=4, cols=6, seed=3, empty_tail=2)
    png = tmp_path / "light.png"
    cv2.imwrite(str(png), render(values, Look("light", size=16, cell_w=40, cell_h=30)))
    jpg = tmp_path / "roulette.jpg"
    cv2.imwrite(str(jpg), render(values, Look("roulette", size=16, cell_w=40, cell_h=30)), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return values, png, jpg


def test_reads_png_and_jpeg_into_csv_and_json(images, tmp_path):
    values, png, jpg = images
    out = tmp_path / "out"
    result = run(png, jpg, "--out", out, "--rows", 4, "--cols", 6)
    assert result.exit_code == 0, result.output
    truth = [[None if v < 0 else int(v) for v in row] for row in values]
    for name in ("light.png", "roulette.jpg"):  # outputs are named by the source, suffix included
        with open(out / f"{name}.csv", newline="") as f:
            assert read_grid_csv(f) == truth
        cells = json.loads((out / f"{name}.json").read_text())["cells"]
        assert len(cells) == 24 and set(cells[0]) >= {"row", "col", "value", "confidence", "box", "needs_review"}
    assert (out / "light.png.csv").read_text().splitlines()[-1].endswith(",,")  # empty cells stay empty


def test_bad_files_get_one_line_each_and_the_rest_are_read(images, tmp_path):
    _, png, _ = images
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(png.read_bytes()[:200])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((60, 200, 3), 255, np.uint8))
    out = tmp_path / "out"
    result = run(corrupt, empty, text, blank, tmp_path / "missing.png", png, "--out", out)
    assert result.exit_code == ExitCode.INPUT
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 5
    for name, why in [("corrupt", "corrupt"), ("empty", "empty"), ("notes", "not a readable image"),
                      ("blank", "no table found"), ("missing", "no such file")]:
        assert any(name in e and why in e for e in errors), (name, errors)
    assert all(e.startswith(f"error: {name}.png: ") for e, name in zip(errors, ["blank", "corrupt", "empty", "missing", "notes"]))
    assert (out / "light.png.csv").exists() and not (out / "corrupt.png.csv").exists()
    assert "read 1/6 images" in result.stdout


def charts(folder):
    """matplotlib's charts as people save them: their tick labels are numbers in a row and a column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(5)
    draw = {"bar.png": lambda ax: ax.bar(range(1, 13), rng.integers(1, 30, 12)),
            "line.png": lambda ax: ax.plot(np.cumsum(rng.normal(size=100))),
            "hist.jpg": lambda ax: ax.hist(rng.normal(size=500), bins=20),
            "hbar.png": lambda ax: (ax.barh(range(15), rng.integers(0, 36, 15)), ax.set_yticks(range(15)))}
    for name, plot in draw.items():
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        plot(ax)
        fig.savefig(folder / name)
        plt.close(fig)
    return sorted(draw)


def test_charts_are_no_table_each_with_its_error_line_and_fail_the_run(tmp_path):
    names = charts(tmp_path)
    out = tmp_path / "out"
    result = run(tmp_path, "--out", out)
    assert result.exit_code == ExitCode.INPUT, result.output
    errors = sorted(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert [e.split(":")[1].strip() for e in errors] == names
    assert "read 0/4 images" in result.stdout and not list(out.glob("*.png.csv"))


def test_shape_mismatch_refuses_that_image_and_fails_the_run(images, tmp_path):
    _, png, _ = images
    result = run(png, "--out", tmp_path / "out", "--rows", 5, "--cols", 6)
    assert result.exit_code == ExitCode.INPUT  # refused: no table from it, so a script can tell
    assert "error: light.png: " in result.stderr and "expected 5x6" in result.stderr
    assert "1 refused" in result.stdout
    assert ",refused," in (tmp_path / "out" / "summary.csv").read_text()
