"""Training tooling: synthetic cells, datasets, label folders, and a tiny generate -> train -> evaluate -> finetune run."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from recognizer.cli import cli
from recognizer.labels import CLASSES, NUM_CLASSES
from recognizer.labelset import FIELDS, NOT_A_NUMBER, save_labels, write_cell
from recognizer.normalize import normalize_cell
from recognizer.training import api, dataset, synth
from recognizer.training.labelled import load_labelled, read_label_rows
from recognizer.training.train import evaluate_probs, fit_temperature, stratified_split
from tablebot.errors import DataError, ExitCode


@pytest.fixture(scope="module")
def fonts() -> list[synth.FontFace]:
    return synth.load_fonts()


@pytest.fixture(scope="module")
def bank() -> synth.DigitBank:
    rng = np.random.default_rng(0)
    images = np.zeros((40, 28, 28), np.uint8)
    labels = np.repeat(np.arange(10), 4)
    for img, lab in zip(images, labels):  # a bar whose length encodes the digit, enough for geometry tests
        img[4:24, 10 + lab % 3 : 14 + lab % 3] = 255
        img[4 : 6 + lab, 8:20] = rng.integers(128, 256)
    return synth.DigitBank(images, labels)


# --- classes and labels -----------------------------------------------------------------------

def test_numbers_are_written_without_leading_zeros():
    for value in CLASSES:
        digits = synth.number_digits(value)
        assert len(digits) == (1 if value < 10 else 2)
        assert digits[0] != 0 or value == 0
        assert int("".join(map(str, digits))) == value


def test_handwritten_numbers_have_one_glyph_per_digit(bank):
    rng = np.random.default_rng(1)
    apart = synth.PairJitter(gap=(0.2, 0.3))  # a clear gap, so glyphs can be counted
    for value in CLASSES:
        alpha = synth.handwritten_alpha(value, bank, 32, rng, apart)
        inked = (alpha > 0.05).any(axis=0).astype(int)
        runs = int(inked[0] + np.count_nonzero(np.diff(inked) == 1))
        assert runs == len(str(value)), value


def test_balanced_labels_cover_every_class_evenly():
    for n in (37, 100, 1000):
        counts = np.bincount(dataset.balanced_labels(n, np.random.default_rng(n)), minlength=NUM_CLASSES)
        assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_label_folder_round_trip(tmp_path, fonts):
    sampler = synth.StyleSampler(synth.split_fonts(fonts, "train"), synth.TRAIN_LOOKS)
    rng = np.random.default_rng(2)
    records = [write_cell(tmp_path, f"c{v}", synth.render_number(v, sampler.sample(rng), rng), v, "test") for v in CLASSES]
    records.append(write_cell(tmp_path, "junk", np.full((20, 30, 3), 255, np.uint8), NOT_A_NUMBER, "test"))
    save_labels(tmp_path, records)
    rows = read_label_rows(tmp_path)
    assert [r.label for r in rows] == [*CLASSES, NOT_A_NUMBER]
    loaded = load_labelled(tmp_path)
    assert loaded.y.tolist() == list(CLASSES)  # not_a_number is skipped
    assert loaded.x.shape == (NUM_CLASSES, 28, 28) and loaded.x.dtype == np.uint8


def _labels_csv(folder: Path, rows: list[list[str]]) -> None:
    (folder / "cells").mkdir(parents=True, exist_ok=True)
    import cv2

    cv2.imwrite(str(folder / "cells" / "a.png"), np.full((20, 30, 3), 255, np.uint8))
    with (folder / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows(rows)


@pytest.mark.parametrize("label", ["37", "05", "x", "", "\u0663", "\u00b3", "+3"])
def test_unknown_label_names_the_row(tmp_path, label):
    _labels_csv(tmp_path, [["a", "3", "cells/a.png", "s", "t"], ["b", label, "cells/a.png", "s", "t"]])
    with pytest.raises(DataError, match=r"line 3 \(id 'b'\).*0\.\.36 or not_a_number"):
        read_label_rows(tmp_path)


def test_a_header_that_differs_is_refused_naming_the_file(tmp_path):
    _labels_csv(tmp_path, [])
    (tmp_path / "labels.csv").write_text("id,label,image,source,labelled_at,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"labels\.csv: the header must be id,label,image,source,labelled_at"):
        read_label_rows(tmp_path)


def test_missing_labelled_image_names_the_row(tmp_path):
    _labels_csv(tmp_path, [["a", "3", "cells/missing.png", "s", "t"]])
    with pytest.raises(DataError, match="line 2.*not found"):
        read_label_rows(tmp_path)


# --- fonts and rendering ---------------------------------------------------------------------

def test_font_split_keeps_held_out_families_out_of_training(fonts):
    train = {f.family for f in synth.split_fonts(fonts, "train")}
    test = {f.family for f in synth.split_fonts(fonts, "test")}
    assert not train & test
    assert test <= synth.HELD_OUT_FAMILIES
    assert synth.DEMO_FAMILIES <= train  # the demo site's fonts must be learnt
    # Seven-segment digits are learnt; DSEG7 Classic is kept back (the gallery's LED board, the walkthrough).
    assert "DSEG7Modern" in train and not any(f.family.startswith(("DSEG7Classic", "DSEG14")) for f in fonts)
    # Pixel fonts too (98.css's own is the gallery's, never trained on); Unifont's extra builds repeat its digits.
    assert {"DotGothic16", "unifont"} <= train and not any(f.family.startswith("unifont_") for f in fonts)


def test_missing_fonts_fail_before_generating(tmp_path):
    with pytest.raises(DataError, match="no usable fonts"):
        synth.load_fonts([tmp_path])
    with pytest.raises(DataError, match="does not exist"):
        synth.load_fonts([tmp_path / "nope.ttf"])


@pytest.mark.parametrize("look", [*synth.TRAIN_LOOKS, *synth.HELD_OUT_LOOKS], ids=lambda l: l.name)
def test_every_number_renders_and_normalises(fonts, look):
    # Regular-weight demo fonts: hairline fonts under heavy grid lines are the normaliser's own test.
    demo = [f for f in fonts if f.family in synth.DEMO_FAMILIES]
    sampler = synth.StyleSampler(demo, [look])
    rng = np.random.default_rng(3)
    for value in CLASSES:
        cell = synth.render_number(value, sampler.sample(rng), rng)
        assert cell.dtype == np.uint8 and cell.ndim == 3 and cell.shape[2] == 3
        assert normalize_cell(cell) is not None


def test_neon_numbers_are_hollow_outlines_in_a_glow(fonts):
    # A neon board's text: a stroke about the glyph's edge, a transparent fill and text shadows, which
    # also show through the fill. A filled 1 encloses nothing; its outline encloses its stroke's body.
    import cv2

    bold = next(f for f in fonts if f.path.name == "DejaVuSans-Bold.ttf")

    def enclosed(alpha: np.ndarray) -> np.ndarray:
        count, labels = cv2.connectedComponents((alpha < 0.5).astype(np.uint8), connectivity=4)
        edge = set(np.unique(np.r_[labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        return np.isin(labels, [k for k in range(1, count) if k not in edge])

    filled, _ = synth.text_alpha("1", bold, 60)
    hollow = synth.neon_alpha("1", bold, 60, 3, 0.0, 0.3)
    glowing = synth.neon_alpha("1", bold, 60, 3, 0.6, 6.0)
    assert not enclosed(filled).any()
    assert enclosed(hollow).sum() > 50 and hollow.max() == pytest.approx(1.0, abs=0.01)
    inside = enclosed(glowing)
    assert inside.sum() > 50 and 0.2 < float(np.median(glowing[inside])) < 0.9  # the shadow shows through
    beyond = ~cv2.dilate((glowing > 0.9).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~inside
    assert (glowing[beyond] > 0.1).sum() > 200  # the glow reaches out beyond the outline


def test_pixel_numbers_are_whole_pixels_magnified_in_blocks(fonts):
    # A pixel font (98.css's) or text drawn without anti-aliasing: every pixel ink or not, and magnified
    # 2x each one a 2x2 block; the anti-aliased drawing has grey edges.
    sans = next(f for f in fonts if f.path.name == "DejaVuSans.ttf")
    smooth, _ = synth.text_alpha("36", sans, 22)
    blocky = synth.pixel_alpha("36", sans, 22, 2.0)
    assert ((smooth > 0.05) & (smooth < 0.95)).sum() > 20
    assert set(np.unique(blocky)) == {0.0, 1.0}
    assert np.array_equal(blocky, np.repeat(np.repeat(blocky[::2, ::2], 2, axis=0), 2, axis=1))
    sampler = synth.StyleSampler(fonts, synth.TRAIN_LOOKS)
    rng = np.random.default_rng(7)
    styles = [sampler.sample(rng) for _ in range(600)]
    pixel = [s for s in styles if s.pixel_scale]
    assert 10 <= len(pixel) <= 60 and all(s.font is not None and not s.outline_px for s in pixel)
    assert all(normalize_cell(synth.render_number(23, s, rng)) is not None for s in pixel[:10])


def test_render_number_is_pure_given_rng(fonts):
    sampler = synth.StyleSampler(fonts, synth.TRAIN_LOOKS)
    style = sampler.sample(np.random.default_rng(4))
    a = synth.render_number(23, style, np.random.default_rng(5))
    b = synth.render_number(23, style, np.random.default_rng(5))
    assert np.array_equal(a, b)


def test_bad_mnist_files_fail_clearly(tmp_path):
    garbage = tmp_path / "mnist.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        synth.load_mnist(garbage)
    np.savez(tmp_path / "wrong.npz", images=np.zeros((2, 28, 28)))
    with pytest.raises(DataError, match="x_train"):
        synth.load_mnist(tmp_path / "wrong.npz")
    with pytest.raises(DataError, match="not found"):
        synth.load_mnist(tmp_path / "absent.npz")


# --- datasets ----------------------------------------------------------------------------------

def test_generate_is_balanced_deterministic_and_round_trips(tmp_path):
    recipe = dataset.Recipe(n=111, seed=7)
    ds, raws = dataset.generate(recipe, progress=False)
    again, _ = dataset.generate(recipe, progress=False)
    assert np.array_equal(ds.x, again.x) and np.array_equal(ds.y, again.y)
    counts = np.bincount(ds.y, minlength=NUM_CLASSES)
    assert counts.min() == counts.max() == 3
    assert set(ds.source) <= {"fonts", "mnist"}
    dataset.save_dataset(ds, tmp_path / "d.npz")
    back = dataset.load_dataset(tmp_path / "d.npz")
    assert np.array_equal(back.x, ds.x) and back.recipe["seed"] == 7
    assert len(raws) == min(len(ds.y), dataset.PREVIEW_COUNT)


def test_stale_dataset_is_refused(tmp_path):
    ds, _ = dataset.generate(dataset.Recipe(n=37, seed=1, sources=("fonts",)), progress=False)
    dataset.save_dataset(ds, tmp_path / "d.npz")
    meta = json.loads((tmp_path / "d.json").read_text())
    meta["normalizer_version"] = -1
    (tmp_path / "d.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="generate it again"):
        dataset.load_dataset(tmp_path / "d.npz")


# --- training helpers ------------------------------------------------------------------------------

def test_stratified_split_holds_out_every_class():
    y = np.repeat(np.arange(NUM_CLASSES), 20)
    tr, va = stratified_split(y, 0.25, np.random.default_rng(0))
    assert not set(tr) & set(va) and len(tr) + len(va) == len(y)
    assert set(y[va]) == set(CLASSES)


def test_temperature_softens_overconfident_mistakes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, NUM_CLASSES, 500)
    guess = np.where(rng.random(500) < 0.8, y, (y + 1) % NUM_CLASSES)
    probs = np.full((500, NUM_CLASSES), 1e-6)
    probs[np.arange(500), guess] = 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    assert fit_temperature(probs, y) > 1.0


def test_evaluation_counts_confident_errors():
    probs = np.full((3, NUM_CLASSES), 0.0)
    probs[0, 1], probs[1, 2] = 1.0, 0.95  # right, wrong and confident
    probs[1, 3], probs[2, 4] = 0.05, 0.5  # the third is wrong but flagged
    probs[2, 5] = 0.5
    ev = evaluate_probs(probs, np.array([1, 3, 5]), 0.9)
    assert ev.errors == 2 and ev.errors_above_threshold == 1
    assert ev.flagged_fraction == pytest.approx(1 / 3)


# --- command line --------------------------------------------------------------------------------

def _run(args: list[str]):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result


def _exit_code(args: list[str], capsys) -> tuple[int, str]:
    """Run the real entry point (with its one error handler) and return its exit code and stderr."""
    import sys

    from recognizer.cli import main

    argv, sys.argv = sys.argv, ["recognizer", *args]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    return int(exc.value.code or 0), capsys.readouterr().err


def test_bad_mnist_option_exits_before_generating(tmp_path, capsys):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"junk")
    code, err = _exit_code(["generate", "--n", "10", "--mnist", str(bad), "--out", str(tmp_path / "d.npz")], capsys)
    assert code == int(ExitCode.INPUT) and "mnist.npz" in err
    assert not (tmp_path / "d.npz").exists()


def test_missing_fonts_option_exits_before_generating(tmp_path, capsys):
    code, err = _exit_code(["generate", "--n", "10", "--sources", "fonts", "--fonts", str(tmp_path),
                            "--out", str(tmp_path / "d.npz")], capsys)
    assert code == int(ExitCode.INPUT) and "no usable fonts" in err


def test_unknown_label_exits_before_finetuning(tmp_path, capsys):
    _labels_csv(tmp_path, [["a", "3", "cells/a.png", "s", "t"], ["b", "thirty", "cells/a.png", "s", "t"]])
    code, err = _exit_code(["finetune", "--model", str(tmp_path / "absent.keras"), "--labels", str(tmp_path)], capsys)
    assert code == int(ExitCode.INPUT) and "'thirty'" in err and "line 3" in err


def test_plain_functions_write_what_the_commands_write(tmp_path):
    done = api.generate(dataset.Recipe(n=37, seed=2, sources=("fonts",)), tmp_path / "d.npz", command="test")
    assert done.count == 37 and done.recipe.is_file() and done.preview.is_file()
    assert dataset.load_dataset(done.dataset).recipe["command"] == "test"
    labelled = api.generate_labels(dataset.Recipe(n=37, seed=2, sources=("fonts",)), tmp_path / "labels")
    assert labelled.count == 37
    assert sorted(load_labelled(labelled.folder).y.tolist()) == list(CLASSES)
    with pytest.raises(ValueError, match="exactly one"):
        api.evaluate(tmp_path / "m.keras")
    with pytest.raises(DataError, match="must end in .keras"):
        api.train(done.dataset, tmp_path / "m.h5")


@pytest.mark.slow
def test_tiny_generate_train_evaluate_finetune(tmp_path):
    train, test, labels = tmp_path / "train.npz", tmp_path / "test.npz", tmp_path / "labels"
    model = tmp_path / "m.keras"
    assert _run(["generate", "--n", "370", "--seed", "1", "--out", str(train)]).exit_code == 0
    assert (tmp_path / "train.png").is_file() and (tmp_path / "train.json").is_file()
    assert _run(["generate", "--n", "74", "--split", "test", "--sources", "fonts", "--out", str(test)]).exit_code == 0
    r = _run(["train", "--arch", "seed", "--epochs", "1", "--data", str(train), "--out", str(model),
              "--reports", str(tmp_path / "rep"), "--val-fraction", "0.2"])
    assert r.exit_code == 0, r.output
    meta = json.loads(model.with_suffix(".json").read_text())
    for key in ("classes", "input_shape", "normalizer_version", "arch", "data", "seed", "metrics",
                "training_seconds", "temperature", "created_at", "command"):
        assert key in meta
    assert (tmp_path / "rep" / "curves.png").is_file() and (tmp_path / "rep" / "confusion.png").is_file()

    r = _run(["evaluate", "--model", str(model), "--data", str(test), "--out", str(tmp_path / "ev")])
    assert r.exit_code == 0 and "accuracy" in r.output
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert report["count"] == 74 and set(report["per_class_accuracy"]) == {str(c) for c in CLASSES}
    for png in ("confusion.png", "classes.png", "mistakes.png"):
        assert (tmp_path / "ev" / png).is_file()

    assert _run(["generate", "--n", "148", "--seed", "3", "--sources", "fonts", "--as-labels", str(labels)]).exit_code == 0
    r = _run(["finetune", "--model", str(model), "--labels", str(labels), "--epochs", "1", "--data", str(test),
              "--replay", "0", "--freeze-conv", "--out", str(tmp_path / "ft.keras")])
    assert r.exit_code == 0, r.output
    assert "before:" in r.output and "after:" in r.output
    ft = json.loads((tmp_path / "ft.json").read_text())["finetune"]
    assert ft["train_cells"] + ft["val_cells"] == 148
    assert _run(["evaluate", "--model", str(tmp_path / "ft.keras"), "--labels", str(labels),
                 "--out", str(tmp_path / "ev2")]).exit_code == 0
