"""Training, calibration, fine-tuning and evaluation on arrays; `recognizer.training.api` reads and writes the files.

Models output softmax probabilities; a single softmax temperature, fitted on the validation
split, turns them into calibrated confidences (stored in the metadata as "temperature").
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recognizer.labels import CLASSES, NUM_CLASSES
from recognizer.model import calibrate

log = logging.getLogger("tablebot.training")

TEMPERATURE_RANGE = (0.25, 8.0)
TEMPERATURE_STEPS = 120
PREDICT_BATCH = 2048


def stratified_split(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices): about `fraction` of each class held out; classes of one stay in training."""
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(len(idx) * fraction)) if len(idx) > 1 else 0
        val.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def one_hot(y: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[[CLASSES.index(int(v)) for v in y]]


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    idx = np.array([CLASSES.index(int(v)) for v in y])
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), idx], 1e-12, 1.0))))


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature that minimises validation negative log-likelihood (grid in log space)."""
    if len(y) == 0:
        return 1.0
    grid = np.geomspace(*TEMPERATURE_RANGE, TEMPERATURE_STEPS)
    losses = [nll(calibrate(probs, t), y) for t in grid]
    return float(grid[int(np.argmin(losses))])


def predict_raw(model, x: np.ndarray) -> np.ndarray:
    """Uncalibrated probabilities for many inputs."""
    if len(x) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    return np.asarray(model.predict(x, batch_size=PREDICT_BATCH, verbose=0), np.float32)


def compile_model(model, learning_rate: float | Any) -> None:
    import keras

    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
    )


def keras_verbosity() -> int:
    """A live progress bar on a terminal, one line per epoch in logs."""
    return 1 if sys.stderr.isatty() or sys.stdout.isatty() else 2


@dataclass
class FitResult:
    history: dict[str, list[float]]
    seconds: float


def fit(model, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        epochs: int, batch_size: int, seed: int, learning_rate: float | Any = 1e-3) -> FitResult:
    import keras

    keras.utils.set_random_seed(seed)
    compile_model(model, learning_rate)
    start = time.monotonic()
    validation = (x_val, one_hot(y_val)) if len(y_val) else None
    hist = model.fit(x, one_hot(y), validation_data=validation, epochs=epochs, batch_size=batch_size,
                     shuffle=True, verbose=keras_verbosity())
    seconds = time.monotonic() - start
    return FitResult({k: [float(v) for v in vals] for k, vals in hist.history.items()}, seconds)


def cosine_schedule(initial: float, steps: int):
    import keras

    return keras.optimizers.schedules.CosineDecay(initial, decay_steps=max(1, steps), alpha=0.02)


# --- evaluation --------------------------------------------------------------------------------

@dataclass
class Evaluation:
    """What a person needs to judge a model on a labelled set."""

    count: int
    accuracy: float
    flagged_fraction: float  # calibrated confidence below the review threshold
    errors: int
    errors_above_threshold: int  # wrong AND confident: what the review step cannot catch
    threshold: float
    per_class_accuracy: dict[int, float]
    confusion: np.ndarray = field(repr=False)  # (37, 37) counts, rows = truth
    predicted: np.ndarray = field(repr=False)
    confidence: np.ndarray = field(repr=False)

    def summary(self) -> dict:
        return {
            "count": self.count,
            "accuracy": round(self.accuracy, 6),
            "errors": self.errors,
            "errors_above_threshold": self.errors_above_threshold,
            "flagged_fraction": round(self.flagged_fraction, 6),
            "review_threshold": self.threshold,
            "per_class_accuracy": {str(k): round(v, 4) for k, v in self.per_class_accuracy.items()},
        }

    def line(self) -> str:
        return (f"accuracy {self.accuracy:.4%} ({self.errors} wrong of {self.count}), "
                f"flagged {self.flagged_fraction:.2%}, wrong but confident (>= {self.threshold}) {self.errors_above_threshold}")


def evaluate_probs(probs: np.ndarray, y: np.ndarray, threshold: float) -> Evaluation:
    """Score calibrated probabilities against true values."""
    pred = np.array([CLASSES[i] for i in probs.argmax(axis=1)], np.int64) if len(y) else np.zeros(0, np.int64)
    conf = probs.max(axis=1) if len(y) else np.zeros(0)
    right = pred == y
    cm = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    for t, p in zip(y, pred):
        cm[CLASSES.index(int(t)), CLASSES.index(int(p))] += 1
    per_class = {c: float(right[y == c].mean()) for c in CLASSES if (y == c).any()}
    n = max(len(y), 1)
    return Evaluation(
        count=len(y),
        accuracy=float(right.mean()) if len(y) else 0.0,
        flagged_fraction=float((conf < threshold).sum() / n),
        errors=int((~right).sum()),
        errors_above_threshold=int(((~right) & (conf >= threshold)).sum()),
        threshold=threshold,
        per_class_accuracy=per_class,
        confusion=cm,
        predicted=pred,
        confidence=conf,
    )


# --- figures (matplotlib imported here only) -------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    _pyplot().close(fig)
    return buf.getvalue()


def curves_png(history: dict[str, list[float]], title: str = "") -> bytes:
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in ((a1, "accuracy"), (a2, "loss")):
        for prefix, label in (("", "train"), ("val_", "validation")):
            vals = history.get(prefix + key)
            if vals:
                ax.plot(range(1, len(vals) + 1), vals, marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "training curves")
    fig.tight_layout()
    return _png(fig)


def confusion_png(cm: np.ndarray, title: str = "") -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 8))
    shown = np.log1p(cm)  # log scale: off-diagonal mistakes stay visible next to big diagonals
    ax.imshow(shown, cmap="Blues")
    ax.set_xticks(range(NUM_CLASSES), [str(c) for c in CLASSES], fontsize=6)
    ax.set_yticks(range(NUM_CLASSES), [str(c) for c in CLASSES], fontsize=6)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for t, p in zip(*np.nonzero(cm)):
        if t != p:
            ax.text(p, t, str(cm[t, p]), ha="center", va="center", fontsize=6, color="red")
    ax.set_title(title or "confusion matrix (log colour; red: mistakes)")
    fig.tight_layout()
    return _png(fig)


def histogram_png(y: np.ndarray, title: str = "") -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.bar(CLASSES, np.bincount(y, minlength=NUM_CLASSES)[: NUM_CLASSES])
    ax.set_xticks(CLASSES, [str(c) for c in CLASSES], fontsize=7)
    ax.set_xlabel("value")
    ax.set_ylabel("cells")
    ax.set_title(title or "class distribution")
    fig.tight_layout()
    return _png(fig)


def mistakes_png(x: np.ndarray, y: np.ndarray, ev: Evaluation, limit: int = 48, cols: int = 8) -> bytes:
    """The most confident mistakes (what review would miss) first, with truth, guess and confidence."""
    plt = _pyplot()
    wrong = np.flatnonzero(ev.predicted != y)
    wrong = wrong[np.argsort(-ev.confidence[wrong])][:limit]
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(x[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{y[i]}->{ev.predicted[i]} {ev.confidence[i]:.2f}", fontsize=7, color="red")
    fig.suptitle(f"worst mistakes ({len(wrong)} shown): true->predicted confidence" if len(wrong) else "no mistakes")
    fig.tight_layout()
    return _png(fig)

