"""The 37-class cell classifier: architectures, saving with metadata, and checked, cached loading.

TensorFlow/Keras are imported inside functions only: importing this module is cheap, so the
robot and `recognizer read` start fast and load TensorFlow once, when a model is first needed.
A model is `NAME.keras` plus `NAME.json` (classes, input shape, normaliser version, softmax
temperature, recipe, metrics); loading refuses a model whose metadata does not match this code.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.atomic import atomic_open
from recognizer.errors import ModelError, OutputError
from recognizer.labels import CLASSES, NUM_CLASSES
from recognizer.normalize import INPUT_SIZE, NORMALIZER_VERSION

INPUT_SHAPE = (INPUT_SIZE, INPUT_SIZE, 1)
ARCHS = ("seed", "default")
RETRAIN_HINT = "retrain with `recognizer train` (or run scripts/train-shipped-model.sh)"
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK  # like a plain open(): temp files are created private
PROB_FLOOR = 1e-12  # probabilities are clipped here before taking logs for temperature scaling


def build_model(arch: str):
    """An uncompiled Keras model: input (28, 28, 1) in [0, 1], output 37 softmax probabilities."""
    import keras
    from keras import layers

    if arch == "seed":  # the original recipe's network, layer for layer
        body = [
            layers.Conv2D(30, (5, 5), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(15, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(50, activation="relu"),
        ]
    elif arch == "default":
        # Wider early filters and 'same' padding keep thin strokes and both digits' edges;
        # still ~0.25M parameters (under 1 MB) and fast on two CPU cores.
        body = [
            layers.Conv2D(24, (5, 5), padding="same", activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(48, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(128, activation="relu"),
        ]
    else:
        raise ModelError(f"unknown architecture {arch!r}: choose one of {', '.join(ARCHS)}")
    return keras.Sequential(
        [keras.Input(shape=INPUT_SHAPE), *body, layers.Dense(NUM_CLASSES, activation="softmax")],
        name=f"tablebot_{arch}",
    )


def metadata_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def base_metadata() -> dict[str, Any]:
    """The fields loading checks; training adds recipe, metrics, temperature and so on."""
    return {
        "classes": list(CLASSES),
        "input_shape": list(INPUT_SHAPE),
        "normalizer_version": NORMALIZER_VERSION,
    }


def save_model(model, path: Path, metadata: dict) -> None:
    """Write MODEL.keras and MODEL.json atomically; the JSON records the .keras file's hash."""
    path = Path(path)
    if path.suffix != ".keras":
        raise OutputError(f"model path {path} must end in .keras")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".keras", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        _inference_copy(model).save(tmp)
        os.chmod(tmp, _FILE_MODE)
        meta = {**base_metadata(), **metadata, "model_sha256": _sha256(Path(tmp))}
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    with atomic_open(metadata_path(path)) as f:
        json.dump(meta, f, indent=2, default=str)
    os.chmod(metadata_path(path), _FILE_MODE)


def _inference_copy(model):
    """The same layers and weights without the optimizer state (a third of the size of a trained model's file)."""
    clean = type(model).from_config(model.get_config())  # uncompiled: no optimizer travels along
    clean.set_weights(model.get_weights())
    return clean


def check_metadata(meta: dict, where: Path) -> None:
    """Refuse a model made for other classes, another input shape or another normaliser."""
    if meta.get("classes") != list(CLASSES):
        raise ModelError(f"{where} was trained for classes {meta.get('classes')!r}, not 0..36: {RETRAIN_HINT}")
    if meta.get("normalizer_version") != NORMALIZER_VERSION:
        raise ModelError(
            f"{where} was trained with normaliser v{meta.get('normalizer_version')}, this code has "
            f"v{NORMALIZER_VERSION}: {RETRAIN_HINT}"
        )
    if list(meta.get("input_shape", [])) != list(INPUT_SHAPE):
        raise ModelError(f"{where} expects input shape {meta.get('input_shape')}, not {list(INPUT_SHAPE)}: {RETRAIN_HINT}")
    t = meta.get("temperature", 1.0)
    if not isinstance(t, (int, float)) or not t > 0:
        raise ModelError(f"{where} has an invalid softmax temperature {t!r}: {RETRAIN_HINT}")


def calibrate(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature-scaled softmax of a model's probabilities (numpy; used by training too)."""
    logits = np.log(np.clip(probs, PROB_FLOOR, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Classifier:
    """A loaded, checked model: batched calibrated probabilities for normalised cells."""

    path: Path
    metadata: dict
    model: Any = field(repr=False)
    _fn: Any = field(default=None, repr=False)

    @property
    def temperature(self) -> float:
        return float(self.metadata.get("temperature", 1.0))

    def _function(self):
        # One traced graph for any batch size: no per-call `model.predict` set-up cost.
        if self._fn is None:
            import tensorflow as tf

            model, t = self.model, self.temperature

            @tf.function(input_signature=[tf.TensorSpec([None, *INPUT_SHAPE], tf.float32)], reduce_retracing=True)
            def fn(x):
                p = model(x, training=False)
                return tf.nn.softmax(tf.math.log(tf.clip_by_value(p, PROB_FLOOR, 1.0)) / t, axis=-1)

            self._fn = fn
        return self._fn

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28, 1) in [0, 1] -> calibrated (N, 37) probabilities, in one batched call."""
        if not isinstance(x, np.ndarray) or x.ndim != 4 or tuple(x.shape[1:]) != INPUT_SHAPE:
            shape = getattr(x, "shape", type(x).__name__)
            raise ModelError(f"model input must be an array of shape (N, {', '.join(map(str, INPUT_SHAPE))}), got {shape}")
        if len(x) == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        try:
            out = self._function()(np.ascontiguousarray(x, dtype=np.float32))
        except Exception as exc:  # TensorFlow errors are translated here, at the model boundary
            raise ModelError(f"model {self.path} failed to run: {exc}") from exc
        return out.numpy().astype(np.float32, copy=False)


_CACHE: dict[Path, Classifier] = {}
_LOCK = threading.Lock()


def load_classifier(path: Path) -> Classifier:
    """Load and check MODEL.keras with its MODEL.json; cached once per process per resolved path."""
    key = Path(path).expanduser().resolve()
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(key)
        return _CACHE[key]


def _load(path: Path) -> Classifier:
    if not path.is_file():
        raise ModelError(f"model file {path} not found: {RETRAIN_HINT}, or set model.path in config.yaml")
    meta_file = metadata_path(path)
    if not meta_file.is_file():
        raise ModelError(f"model metadata {meta_file} is missing (it must sit beside the .keras file): {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model metadata {meta_file} is unreadable ({exc}): {RETRAIN_HINT}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {meta_file} is not a JSON object: {RETRAIN_HINT}")
    check_metadata(meta, path)
    expected = meta.get("model_sha256")
    if expected and expected != _sha256(path):
        raise ModelError(f"{meta_file} does not belong to {path} (file hash differs): {RETRAIN_HINT}")
    # TensorFlow's C++ start-up notes (CPU features, oneDNN) are noise in a robot's log.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras

        model = keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ModelError(f"cannot load model {path} ({type(exc).__name__}: {exc}): {RETRAIN_HINT}") from exc
    if tuple(model.input_shape[1:]) != INPUT_SHAPE or tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise ModelError(f"{path} maps {model.input_shape} to {model.output_shape}, not (N, 28, 28, 1) -> (N, 37): {RETRAIN_HINT}")
    return Classifier(path=path, metadata=meta, model=model)


def clear_cache() -> None:
    """Forget loaded models (tests; after retraining in the same process)."""
    with _LOCK:
        _CACHE.clear()
