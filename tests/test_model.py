"""Model contracts: architectures, metadata round trip, checked loading, calibrated batched prediction."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

import recognizer.model
from recognizer.errors import ModelError
from recognizer.labels import CLASSES, NUM_CLASSES
from recognizer.normalize import NORMALIZER_VERSION

SEED_PARAMS = 61310  # Conv(30,5x5) 780 + Conv(15,3x3) 4065 + Dense128 48128 + Dense50 6450 + Dense37 1887


def test_importing_model_does_not_load_tensorflow():
    code = "import sys, recognizer.model; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("arch", recognizer.model.ARCHS)
def test_architectures_map_cells_to_37_probabilities(arch):
    model = recognizer.model.build_model(arch)
    assert tuple(model.input_shape[1:]) == (28, 28, 1)
    out = model(np.zeros((3, 28, 28, 1), np.float32)).numpy()
    assert out.shape == (3, NUM_CLASSES)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_seed_architecture_is_the_original():
    model = recognizer.model.build_model("seed")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense", "Dense", "Dense"]
    assert model.count_params() == SEED_PARAMS


def test_default_architecture_is_small():
    assert recognizer.model.build_model("default").count_params() * 4 < 2_000_000


def test_unknown_architecture_is_refused():
    with pytest.raises(ModelError, match="seed, default"):
        recognizer.model.build_model("huge")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    recognizer.model.save_model(recognizer.model.build_model("seed"), path, {"arch": "seed", "temperature": 1.5})
    return path


def _copy(saved, tmp_path, **changes):
    path = tmp_path / "copy.keras"
    path.write_bytes(saved.read_bytes())
    path.with_suffix(".tflite").write_bytes(saved.with_suffix(".tflite").read_bytes())
    meta = json.loads(saved.with_suffix(".json").read_text())
    meta.update(changes)
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def test_save_writes_model_and_checked_metadata(saved):
    meta = json.loads(saved.with_suffix(".json").read_text())
    assert meta["classes"] == list(CLASSES)
    assert meta["normalizer_version"] == NORMALIZER_VERSION
    assert meta["input_shape"] == [28, 28, 1]
    assert meta["temperature"] == 1.5
    assert meta["model_sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert meta["tflite_sha256"] == hashlib.sha256(saved.with_suffix(".tflite").read_bytes()).hexdigest()
    assert sorted(p.name for p in saved.parent.iterdir()) == ["tiny.json", "tiny.keras", "tiny.tflite"]  # no temp files


def test_classifier_predicts_calibrated_batches(saved):
    recognizer.model.clear_cache()
    clf = recognizer.model.load_classifier(saved)
    assert recognizer.model.load_classifier(saved) is clf  # cached per resolved path
    x = np.random.default_rng(0).random((120, 28, 28, 1), dtype=np.float32)
    p = clf.predict_proba(x)
    assert p.shape == (120, NUM_CLASSES) and p.dtype == np.float32
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert clf.predict_proba(np.zeros((0, 28, 28, 1), np.float32)).shape == (0, NUM_CLASSES)


def _assert_same_as_keras(clf, temperature):
    """LiteRT gives the Keras model's calibrated probabilities, across batch-size changes (tensor resizing)."""
    rng = np.random.default_rng(1)
    for n in (5, 120, 7, 0, 120, 120):
        x = rng.random((n, 28, 28, 1), dtype=np.float32)
        expected = recognizer.model.calibrate(clf.model(x).numpy(), temperature) if n else np.zeros((0, NUM_CLASSES))
        np.testing.assert_allclose(clf.predict_proba(x), expected, atol=1e-5)


def test_litert_matches_keras_and_keras_stays_available_for_fine_tuning(saved):
    recognizer.model.clear_cache()
    clf = recognizer.model.load_classifier(saved)
    assert clf.model.count_params() == SEED_PARAMS  # loaded lazily, for `recognizer finetune`
    assert clf.model is clf.model
    _assert_same_as_keras(clf, 1.5)


def test_inference_does_not_import_tensorflow(saved):
    code = (
        "import sys, numpy as np; from recognizer.model import load_classifier; "
        f"p = load_classifier({str(saved)!r}).predict_proba(np.zeros((3, 28, 28, 1), np.float32)); "
        "assert p.shape == (3, 37); print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_model_without_tflite_is_converted_at_load(saved, tmp_path, caplog):
    recognizer.model.clear_cache()
    old = _copy(saved, tmp_path)
    old.with_suffix(".tflite").unlink()
    clf = recognizer.model.load_classifier(old)
    assert "copy.tflite is missing" in caplog.text and "save the model again" in caplog.text
    _assert_same_as_keras(clf, 1.5)
    np.testing.assert_allclose(clf.predict_proba(np.ones((4, 28, 28, 1), np.float32)),
                               recognizer.model.load_classifier(saved).predict_proba(np.ones((4, 28, 28, 1), np.float32)), atol=1e-6)


@pytest.mark.parametrize("tamper", ["bytes", "unrecorded"])
def test_foreign_tflite_is_refused_with_a_fix(saved, tmp_path, tamper):
    recognizer.model.clear_cache()
    path = _copy(saved, tmp_path)
    if tamper == "bytes":
        lite = path.with_suffix(".tflite")
        lite.write_bytes(lite.read_bytes() + b"\0")
    else:  # metadata from a version that wrote no .tflite, beside a stale one
        meta = json.loads(path.with_suffix(".json").read_text())
        del meta["tflite_sha256"]
        path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="copy.tflite") as err:
        recognizer.model.load_classifier(path)
    assert "delete copy.tflite" in str(err.value) and "recognizer train" in str(err.value)


@pytest.mark.parametrize("bad", [np.zeros((2, 28, 28)), np.zeros((2, 32, 32, 1)), [[0.0]]])
def test_wrong_input_shapes_raise_model_error(saved, bad):
    with pytest.raises(ModelError, match="shape"):
        recognizer.model.load_classifier(saved).predict_proba(bad)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"classes": list(range(10))}, "classes"),
        ({"normalizer_version": NORMALIZER_VERSION + 100}, "normaliser"),
        ({"input_shape": [32, 32, 1]}, "input shape"),
        ({"model_sha256": "0" * 64}, "does not belong"),
    ],
)
def test_mismatched_metadata_is_refused_with_a_fix(saved, tmp_path, changes, message):
    recognizer.model.clear_cache()
    with pytest.raises(ModelError, match=message) as err:
        recognizer.model.load_classifier(_copy(saved, tmp_path, **changes))
    assert "recognizer train" in str(err.value)


def test_missing_files_are_model_errors(saved, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        recognizer.model.load_classifier(tmp_path / "none.keras")
    lonely = tmp_path / "lonely.keras"
    lonely.write_bytes(saved.read_bytes())
    with pytest.raises(ModelError, match="metadata"):
        recognizer.model.load_classifier(lonely)


def test_temperature_flattens_without_changing_the_argmax():
    p = np.array([[0.7, 0.2, 0.1]])
    hot, cold = recognizer.model.calibrate(p, 2.0), recognizer.model.calibrate(p, 0.5)
    assert hot.argmax() == cold.argmax() == 0
    assert hot.max() < 0.7 < cold.max()
