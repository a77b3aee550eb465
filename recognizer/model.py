"""The 37-class cell classifier: architectures, saving with metadata, and checked, cached loading.

A model is three files side by side, written by `save_model`:

- `NAME.keras`: the source of truth, with the layer structure that training and
  `recognizer finetune` need (clone, set weights, freeze layers);
- `NAME.tflite`: the same weights converted to TensorFlow Lite, which inference runs with the
  LiteRT interpreter (`ai-edge-litert`): it imports far faster than TensorFlow and runs a table's
  batch faster (XNNPACK), so the robot and `recognizer read` never import TensorFlow;
- `NAME.json`: metadata (classes, input shape, normaliser version, softmax temperature, recipe,
  metrics) and both files' hashes; loading refuses a model whose metadata does not match this
  code or whose files are not the ones the metadata was written for.

TensorFlow/Keras are imported inside functions only, when training, saving, or fine-tuning
(`Classifier.model`) needs them. A `.keras` without its `.tflite` (copied alone, or the `.tflite`
deleted because the metadata disowned it) is converted at load time, which imports TensorFlow once.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.errors import ModelError
from recognizer.labels import CLASSES, NUM_CLASSES
from recognizer.normalize import INPUT_SIZE, NORMALIZER_VERSION
from tablebot.errors import OutputError
from tablebot.files import atomic_open, replacing

INPUT_SHAPE = (INPUT_SIZE, INPUT_SIZE, 1)
ARCHS = ("seed", "default")
RETRAIN_HINT = "retrain with `recognizer train` (or run scripts/train-shipped-model.sh)"
PROB_FLOOR = 1e-12  # probabilities are clipped here before taking logs for temperature scaling
INFERENCE_THREADS = 2  # the robot's machine has two cores
log = logging.getLogger(__name__)


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
        # Strided convolutions instead of pooling: a sixth of the work of a pooled net of the same
        # widths, which keeps a table's batch cheap. 'same' padding on the first two keeps thin
        # strokes and both digits' outer edges.
        body = [
            layers.Conv2D(16, (5, 5), strides=2, padding="same", activation="relu"),
            layers.Conv2D(32, (3, 3), strides=2, padding="same", activation="relu"),
            layers.Conv2D(32, (3, 3), activation="relu"),
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


def tflite_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".tflite")


def second_opinion_path(model_path: Path) -> Path:
    """Where a model's second opinion sits, if it has one: MODEL.second.keras beside MODEL.keras."""
    return Path(model_path).with_name(Path(model_path).stem + ".second.keras")


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
    """Write MODEL.keras, MODEL.tflite and MODEL.json atomically; the JSON records both files' hashes.

    The JSON is written last, so a crash part-way leaves a model that loading refuses (hashes
    differ) rather than metadata that names files which are not there.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise OutputError(f"model path {path} must end in .keras")
    clean = _inference_copy(model)
    tflite = _to_tflite(clean)  # before any file is replaced: a failed conversion leaves the old model whole
    with replacing(path, suffix=path.suffix) as tmp:  # Keras wants its suffix
        clean.save(tmp)
        keras_sha = _sha256(tmp)
    with replacing(tflite_path(path)) as tmp:
        tmp.write_bytes(tflite)
    meta = {**base_metadata(), **metadata, "model_sha256": keras_sha,
            "tflite_sha256": hashlib.sha256(tflite).hexdigest()}
    with atomic_open(metadata_path(path)) as f:
        json.dump(meta, f, indent=2, default=str)


def _inference_copy(model):
    """The same layers and weights without the optimizer state (a third of the size of a trained model's file)."""
    clean = type(model).from_config(model.get_config())  # uncompiled: no optimizer travels along
    clean.set_weights(model.get_weights())
    return clean


def _to_tflite(model) -> bytes:
    """The Keras model as a float32 TensorFlow Lite flatbuffer (no quantisation: same probabilities)."""
    import tensorflow as tf

    # Keras prints "Saved artifact at '/tmp/...'" for the temporary SavedModel the converter goes through.
    with contextlib.redirect_stdout(io.StringIO()):
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


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


class Classifier:
    """A loaded, checked model: batched calibrated probabilities for normalised cells.

    Inference runs the .tflite file on a LiteRT interpreter; `model`, the Keras model, is loaded
    only when fine-tuning asks for it.
    """

    def __init__(self, path: Path, metadata: dict, tflite: bytes, keras_model=None):
        self.path, self.metadata = path, metadata
        self._keras = keras_model
        self._keras_lock = threading.Lock()
        self._run_lock = threading.Lock()  # an interpreter must not be used by two threads at once
        self._batch = 0  # the batch size the interpreter's tensors are allocated for
        try:
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_content=tflite, num_threads=INFERENCE_THREADS)
            (inp,), (out,) = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        except Exception as exc:
            raise ModelError(f"cannot load {tflite_path(path)} ({type(exc).__name__}: {exc}): {RETRAIN_HINT}") from exc
        if (
            tuple(inp["shape_signature"][1:]) != INPUT_SHAPE or tuple(out["shape_signature"][1:]) != (NUM_CLASSES,)
            or inp["dtype"] != np.float32 or out["dtype"] != np.float32
        ):
            raise ModelError(
                f"{tflite_path(path)} maps {inp['shape_signature'].tolist()} {inp['dtype'].__name__} to "
                f"{out['shape_signature'].tolist()} {out['dtype'].__name__}, not (N, 28, 28, 1) -> (N, 37) float32: "
                f"{RETRAIN_HINT}"
            )
        self._input, self._output = inp["index"], out["index"]

    def __repr__(self) -> str:
        return f"Classifier(path={str(self.path)!r})"

    @property
    def temperature(self) -> float:
        return float(self.metadata.get("temperature", 1.0))

    @property
    def model(self):
        """The Keras model (for fine-tuning); loading it imports TensorFlow."""
        with self._keras_lock:
            if self._keras is None:
                self._keras = _load_keras(self.path)
            return self._keras

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28, 1) in [0, 1] -> calibrated (N, 37) probabilities, in one batched call."""
        if not isinstance(x, np.ndarray) or x.ndim != 4 or tuple(x.shape[1:]) != INPUT_SHAPE:
            shape = getattr(x, "shape", type(x).__name__)
            raise ModelError(f"model input must be an array of shape (N, {', '.join(map(str, INPUT_SHAPE))}), got {shape}")
        if len(x) == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        x = np.ascontiguousarray(x, dtype=np.float32)
        try:  # interpreter errors are translated here, at the model boundary
            with self._run_lock:
                if len(x) != self._batch:  # re-planning the tensors is cheap but not free: only on a new size
                    self._batch = 0  # until allocation succeeds
                    self._interpreter.resize_tensor_input(self._input, [len(x), *INPUT_SHAPE])
                    self._interpreter.allocate_tensors()
                    self._batch = len(x)
                self._interpreter.set_tensor(self._input, x)
                self._interpreter.invoke()
                raw = self._interpreter.get_tensor(self._output)
        except Exception as exc:
            raise ModelError(f"model {self.path} failed to run: {exc}") from exc
        return calibrate(raw, self.temperature).astype(np.float32, copy=False)


_CACHE: dict[Path, Classifier] = {}
_LOCK = threading.Lock()


def load_classifier(path: Path) -> Classifier:
    """Load and check MODEL.keras's MODEL.tflite and MODEL.json; cached once per process per resolved path."""
    key = Path(path).expanduser().resolve()
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(key)
        return _CACHE[key]


def _load(path: Path) -> Classifier:
    if not path.is_file():
        shipped = Path(__file__).resolve().parent / "models" / "default.keras"
        raise ModelError(f"model file {path} not found: set model.path in the config (relative to the config file's "
                         f"folder; the shipped model is {shipped}), or {RETRAIN_HINT}")
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
    lite_file = tflite_path(path)
    if not lite_file.is_file():
        log.warning(
            "%s is missing, so %s is converted at every load, which imports TensorFlow (several seconds): "
            "save the model again with recognizer.model.save_model (or retrain) to write it", lite_file, path.name,
        )
        keras_model = _load_keras(path)
        try:
            tflite = _to_tflite(keras_model)
        except Exception as exc:
            raise ModelError(f"cannot convert {path} to TensorFlow Lite ({type(exc).__name__}: {exc}): {RETRAIN_HINT}") from exc
        return Classifier(path, meta, tflite, keras_model)
    try:
        tflite = lite_file.read_bytes()  # hashed and run from the same bytes
    except OSError as exc:
        raise ModelError(f"cannot read {lite_file} ({exc.strerror or exc}): {RETRAIN_HINT}") from exc
    # Strict where the .keras check is lenient: a .tflite the metadata does not vouch for may be left
    # over from another model saved under the same name.
    if meta.get("tflite_sha256") != hashlib.sha256(tflite).hexdigest():
        raise ModelError(
            f"{meta_file} does not belong to {lite_file} (file hash differs or is not recorded): delete "
            f"{lite_file.name} to convert {path.name} at load time, or {RETRAIN_HINT}"
        )
    return Classifier(path, meta, tflite)


def _load_keras(path: Path):
    # TensorFlow's C++ start-up notes (CPU features, oneDNN) are noise in a robot's log.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras

        model = keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ModelError(f"cannot load model {path} ({type(exc).__name__}: {exc}): {RETRAIN_HINT}") from exc
    if tuple(model.input_shape[1:]) != INPUT_SHAPE or tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise ModelError(f"{path} maps {model.input_shape} to {model.output_shape}, not (N, 28, 28, 1) -> (N, 37): {RETRAIN_HINT}")
    return model


def clear_cache() -> None:
    """Forget loaded models (tests; after retraining in the same process)."""
    with _LOCK:
        _CACHE.clear()
