"""generate, train, finetune and evaluate as plain functions: files in, files out, a small result back.

`recognizer.training.cli` only parses options, calls these and prints the results; a script or a
notebook can call them the same way. Inputs (fonts, MNIST, datasets, label folders, models) are
all checked before any long work.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognizer.labelset import save_labels, write_cell
from recognizer.model import build_model, calibrate, load_classifier, save_model
from recognizer.settings import DEFAULT_MODEL, ModelSettings
from recognizer.training import dataset
from recognizer.training.dataset import Recipe
from recognizer.training.labelled import load_labelled
from recognizer.training.train import (
    Evaluation,
    confusion_png,
    cosine_schedule,
    curves_png,
    evaluate_probs,
    fit,
    fit_temperature,
    histogram_png,
    mistakes_png,
    nll,
    predict_raw,
    stratified_split,
)
from tablebot.clock import utc_iso
from tablebot.errors import DataError
from tablebot.files import atomic_open, write_bytes_atomic

__all__ = ["Recipe", "generate", "generate_labels", "train", "evaluate", "finetune",
           "Generated", "GeneratedLabels", "Trained", "Evaluated", "FineTuned"]

log = logging.getLogger("tablebot.training")

DATA_DIR = Path("data")
DEFAULT_TRAIN_DATA = DATA_DIR / "synth" / "train.npz"
DEFAULT_MODEL_OUT = DATA_DIR / "models" / "model.keras"
DEFAULT_EPOCHS = {"seed": 20, "default": 12}
DEFAULT_BATCH = {"seed": 200, "default": 128}
DEFAULT_LEARNING_RATE = 1e-3
VAL_FRACTION = 0.05
FINETUNE_EPOCHS = 10
FINETUNE_BATCH = 10
FINETUNE_LEARNING_RATE = 1e-4
FINETUNE_REPLAY = 1.0
FINETUNE_VAL_FRACTION = 0.25
FINETUNE_CHECK_N = 3000  # synthetic held-out cells generated when finetune gets no data set
MIN_CALIBRATION_CELLS = 100  # fewer labelled validation cells than this: keep the model's temperature
FORGETTING_WARN = 0.005  # warn when fine-tuning costs more synthetic accuracy than this
REVIEW_THRESHOLD = ModelSettings().review_threshold


def _write_json(path: Path, obj: dict) -> None:
    with atomic_open(path) as f:
        json.dump(obj, f, indent=2, default=str)


def _check_keras_out(out: Path) -> None:
    if out.suffix != ".keras":
        raise DataError(f"--out {out} must end in .keras")


# --- generate ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Generated:
    dataset: Path
    recipe: Path  # the .json beside it
    preview: Path  # the .png beside it
    count: int


def generate(recipe: Recipe, out: Path = DEFAULT_TRAIN_DATA, workers: int = 1, command: str | None = None) -> Generated:
    """Generate the class-balanced synthetic dataset `recipe` describes into `out` (.npz, .json recipe, .png preview).

    `command` is recorded in the recipe, as what made the file.
    """
    out = Path(out)
    ds, raws = dataset.generate(recipe, workers=workers)
    ds.recipe["command"] = command
    ds.recipe["created_at"] = utc_iso()
    dataset.save_dataset(ds, out)
    write_bytes_atomic(out.with_suffix(".png"), dataset.preview_png(ds, raws))
    return Generated(out, dataset.sidecar(out), out.with_suffix(".png"), len(ds.y))


@dataclass(frozen=True)
class GeneratedLabels:
    folder: Path
    count: int


def generate_labels(recipe: Recipe, folder: Path) -> GeneratedLabels:
    """Render `recipe.n` raw cell crops into a labelled-cells folder (`recognizer.labelset`) instead of a dataset."""
    from tqdm import tqdm

    folder = Path(folder)
    gen = dataset.Generator.build(recipe)
    rng = np.random.default_rng(recipe.seed)
    values = dataset.balanced_labels(recipe.n, rng)
    names = list(gen.source_weights())
    p = np.array(list(gen.source_weights().values()))
    stamp = utc_iso()
    records = []
    for i, v in enumerate(tqdm(values, desc="rendering", unit="cell")):
        source = names[int(rng.choice(len(names), p=p))]
        raw, _ = gen.render(int(v), source, rng)
        records.append(write_cell(folder, f"{recipe.split}-{recipe.seed}-{i:06d}", raw, int(v), source, stamp))
    save_labels(folder, records)
    return GeneratedLabels(folder, len(records))


# --- train -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trained:
    model: Path  # MODEL.keras; MODEL.json beside it
    reports: Path  # curves.png, confusion.png
    arch: str
    params: int
    seconds: float  # training time
    temperature: float
    validation: Evaluation


def train(data: Path = DEFAULT_TRAIN_DATA, out: Path = DEFAULT_MODEL_OUT, *, arch: str = "default",
          epochs: int | None = None, batch_size: int | None = None, reports: Path | None = None, seed: int = 0,
          val_fraction: float = VAL_FRACTION, learning_rate: float = DEFAULT_LEARNING_RATE,
          command: str | None = None) -> Trained:
    """Train the 37-class CNN on a generated dataset; save it with its metadata and figures.

    epochs, batch_size: None for the arch's default (DEFAULT_EPOCHS, DEFAULT_BATCH);
    reports: None for data/models/<model name>/.
    """
    out = Path(out)
    _check_keras_out(out)
    ds = dataset.load_dataset(data)  # checked before TensorFlow starts
    epochs = epochs or DEFAULT_EPOCHS[arch]
    batch_size = batch_size or DEFAULT_BATCH[arch]
    reports = Path(reports) if reports else DATA_DIR / "models" / out.stem
    tr, va = stratified_split(ds.y, val_fraction, np.random.default_rng(seed))
    x = ds.inputs()
    model = build_model(arch)
    # The seed recipe is plain Adam; the default one decays the rate to settle in fewer epochs.
    steps = epochs * -(-len(tr) // batch_size)
    lr = learning_rate if arch == "seed" else cosine_schedule(learning_rate, steps)
    log.info("training %s on %d samples (%d for validation), %d epochs, batch %d", arch, len(tr), len(va), epochs, batch_size)
    result = fit(model, x[tr], ds.y[tr], x[va], ds.y[va], epochs, batch_size, seed, lr)
    raw = predict_raw(model, x[va])
    temperature = fit_temperature(raw, ds.y[va])
    ev = evaluate_probs(calibrate(raw, temperature), ds.y[va], REVIEW_THRESHOLD)
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
            "val": ev.summary() | {"nll_raw": round(nll(raw, ds.y[va]), 5),
                                   "nll_calibrated": round(nll(calibrate(raw, temperature), ds.y[va]), 5)},
            "history": result.history,
        },
        "params": int(model.count_params()),
        "created_at": utc_iso(),
        "command": command,
    }
    save_model(model, out, meta)
    write_bytes_atomic(reports / "curves.png", curves_png(result.history, f"{out.name} ({arch})"))
    write_bytes_atomic(reports / "confusion.png", confusion_png(ev.confusion, f"{out.name}: validation split"))
    return Trained(out, reports, arch, int(model.count_params()), result.seconds, temperature, ev)


# --- evaluate ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluated:
    model: Path
    name: str  # the data set's name: the .npz stem or the labels folder's name
    reports: Path  # report.json, confusion.png, classes.png, mistakes.png
    evaluation: Evaluation

    def weakest(self, count: int = 5) -> list[tuple[int, float]]:
        return sorted(self.evaluation.per_class_accuracy.items(), key=lambda kv: kv[1])[:count]


def evaluate(model: Path = DEFAULT_MODEL, *, data: Path | None = None, labels: Path | None = None,
             out: Path | None = None, threshold: float = REVIEW_THRESHOLD) -> Evaluated:
    """Accuracy, per-class accuracy, flagged share and figures of a model on exactly one of
    `data` (a generated .npz) or `labels` (a labelled-cells folder); reports in `out`
    (None: data/eval/<model>-<data>/)."""
    x, y, name = _load_eval_set(data, labels)
    clf = load_classifier(model)
    ev = evaluate_probs(clf.predict_proba((x.astype(np.float32) / 255.0)[..., None]), y, threshold)
    out = Path(out) if out else DATA_DIR / "eval" / f"{Path(model).stem}-{name}"
    report = {"model": str(model), "data": str(data or labels), "created_at": utc_iso(), **ev.summary()}
    _write_json(out / "report.json", report)
    write_bytes_atomic(out / "confusion.png", confusion_png(ev.confusion, f"{Path(model).name} on {name}"))
    write_bytes_atomic(out / "classes.png", histogram_png(y, f"class distribution of {name}"))
    write_bytes_atomic(out / "mistakes.png", mistakes_png(x, y, ev))
    return Evaluated(Path(model), name, out, ev)


def _load_eval_set(data: Path | None, labels: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    if (data is None) == (labels is None):
        raise ValueError("give exactly one of data (a generated .npz) or labels (a labelled-cells folder)")
    if data is not None:
        ds = dataset.load_dataset(data)
        return ds.x, ds.y, Path(data).stem
    cells = load_labelled(labels)
    return cells.x, cells.y, Path(labels).name


# --- finetune ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FineTuned:
    model: Path
    val_cells: int  # labelled cells held out of fine-tuning
    synthetic_cells: int  # the synthetic set watched for forgetting
    before: dict[str, Evaluation]  # "labelled_val", "synthetic"
    after: dict[str, Evaluation]

    @property
    def forgetting(self) -> float:
        """Synthetic accuracy lost by fine-tuning (negative: gained)."""
        return self.before["synthetic"].accuracy - self.after["synthetic"].accuracy

    @property
    def forgot(self) -> bool:
        return self.forgetting > FORGETTING_WARN


def finetune(labels: Path, model: Path = DEFAULT_MODEL, *, epochs: int = FINETUNE_EPOCHS,
             batch_size: int = FINETUNE_BATCH, freeze_conv: bool = False, out: Path | None = None,
             data: Path | None = None, replay: float = FINETUNE_REPLAY, learning_rate: float = FINETUNE_LEARNING_RATE,
             val_fraction: float = FINETUNE_VAL_FRACTION, seed: int = 0, command: str | None = None) -> FineTuned:
    """Fine-tune `model` on labelled real cells; score it before and after, on held-out labelled cells and on
    synthetic cells (`data`, or FINETUNE_CHECK_N held-out cells generated now) to watch for forgetting.

    replay: synthetic training cells mixed in per labelled cell; out: None for data/models/<model>-finetuned.keras.
    """
    import keras

    out = Path(out) if out else DATA_DIR / "models" / f"{Path(model).stem}-finetuned.keras"
    _check_keras_out(out)
    cells = load_labelled(labels)  # every row checked before any training
    synth_set = dataset.load_dataset(data) if data else None
    base = load_classifier(model)
    rng = np.random.default_rng(seed)
    tr, va = stratified_split(cells.y, val_fraction, rng)
    if len(tr) == 0 or len(va) == 0:
        raise DataError(f"{labels} has too few labelled cells ({len(cells.y)}) to hold some out for validation: label more")
    if synth_set is None:
        log.info("generating %d held-out synthetic cells to watch for forgetting", FINETUNE_CHECK_N)
        synth_set, _ = dataset.generate(Recipe(n=FINETUNE_CHECK_N, seed=seed + 1, sources=("fonts",), split="test"))
    x_real, x_syn = cells.inputs(), synth_set.inputs()
    temperature = base.temperature
    before = {"labelled_val": evaluate_probs(base.predict_proba(x_real[va]), cells.y[va], REVIEW_THRESHOLD),
              "synthetic": evaluate_probs(base.predict_proba(x_syn), synth_set.y, REVIEW_THRESHOLD)}

    x_fit, y_fit = x_real[tr], cells.y[tr]
    n_replay = int(round(replay * len(tr)))
    if n_replay:
        log.info("mixing in %d synthetic training cells (--replay %.2f)", n_replay, replay)
        rep, _ = dataset.generate(Recipe(n=n_replay, seed=seed + 2, split="train"), progress=True)
        x_fit, y_fit = np.concatenate([x_fit, rep.inputs()]), np.concatenate([y_fit, rep.y])
    tuned = keras.models.clone_model(base.model)
    tuned.set_weights(base.model.get_weights())
    if freeze_conv:
        for layer in tuned.layers:
            if isinstance(layer, keras.layers.Conv2D):
                layer.trainable = False
    result = fit(tuned, x_fit, y_fit, x_real[va], cells.y[va], epochs, batch_size, seed, learning_rate)

    raw_val = predict_raw(tuned, x_real[va])
    if len(va) >= MIN_CALIBRATION_CELLS:
        temperature = fit_temperature(raw_val, cells.y[va])
    after = {"labelled_val": evaluate_probs(calibrate(raw_val, temperature), cells.y[va], REVIEW_THRESHOLD),
             "synthetic": evaluate_probs(calibrate(predict_raw(tuned, x_syn), temperature), synth_set.y, REVIEW_THRESHOLD)}

    meta = {k: v for k, v in base.metadata.items() if k not in ("model_sha256",)}
    meta.update({
        "temperature": temperature,
        "created_at": utc_iso(),
        "command": command,
        "finetune": {
            "base_model": str(model),
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
    save_model(tuned, out, meta)
    return FineTuned(out, int(len(va)), int(len(synth_set.y)), before, after)
