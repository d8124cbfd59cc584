"""The shipped artifacts: their numbers cannot drift from what they really do."""

import json

import numpy as np
import pytest

from model.config import MODEL_DIR, ModelConfig
from model.runtime import Network, load_network
from training.dataset import load_splits
from training.evaluate import metrics_of, predict_arrays
from training.metrics import reliability

pytestmark = pytest.mark.full_split


@pytest.fixture(scope="module")
def test_split(datasets):
    config = ModelConfig.from_file(MODEL_DIR / "config.json")
    return load_splits(datasets / "UTKFace.tar.gz", datasets / "utkface_split.csv", config.input_size, splits=("test",))["test"]


def test_artifacts_are_complete_and_small():
    names = ("face2data.keras", "face2data.tflite", "history.csv", "config.json", "metrics.json")
    assert all((MODEL_DIR / name).is_file() for name in names)
    artifacts = [path for path in MODEL_DIR.rglob("*") if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts]
    assert sum(path.stat().st_size for path in artifacts) <= 30 * 10**6
    config = json.loads((MODEL_DIR / "config.json").read_text())
    assert config["wall_time_s"] > 60 and config["machine"] and config["dataset"]["sha256"]
    assert set(config["calibration"]["temperatures"]) == {"gender", "race"}


def test_shipped_tflite_reproduces_metrics_json(test_split):
    recorded = json.loads((MODEL_DIR / "metrics.json").read_text())
    config = ModelConfig.from_file(MODEL_DIR / "config.json")
    served = predict_arrays(load_network(MODEL_DIR, config), test_split)  # what serving computes: calibrated
    measured = metrics_of(served, config, test_split)
    assert measured["n_images"] == recorded["n_images"] == 2369
    assert abs(measured["age_mae"] - recorded["age_mae"]) <= 0.1
    assert abs(measured["gender_accuracy"] - recorded["gender_accuracy"]) <= 0.005
    assert abs(measured["race_accuracy"] - recorded["race_accuracy"]) <= 0.005
    gender_by_band = {band: row["gender_accuracy"] for band, row in recorded["by_age_band"].items()}
    assert {band: row["gender_accuracy"] for band, row in measured["by_age_band"].items()} == pytest.approx(gender_by_band, abs=0.005)
    # The served probabilities are the calibrated ones, and calibrated they are on test.
    calibration = recorded["calibration"]
    for head in ("gender", "race"):
        assert calibration[head]["ece_after"] < calibration[head]["ece_before"]
        assert calibration[head]["temperature"] == pytest.approx(config.temperatures[head], abs=1e-4)
        recount = reliability(served[head], getattr(test_split, head))
        assert recount["ece"] == pytest.approx(calibration[head]["ece_after"], abs=2e-3)


def test_litert_and_keras_agree_on_the_test_split(test_split):
    import keras

    model = keras.saving.load_model(MODEL_DIR / "face2data.keras", compile=False)
    network = Network(MODEL_DIR / "face2data.tflite", ModelConfig.from_file(MODEL_DIR / "config.json").outputs)
    keras_outputs = {
        name: np.concatenate([np.asarray(model.predict_on_batch(test_split.images[i : i + 256])[name]) for i in range(0, len(test_split), 256)])
        for name in ("age", "gender", "race")
    }
    litert_outputs = {
        name: np.concatenate([network.run(test_split.images[i : i + 256])[name] for i in range(0, len(test_split), 256)])
        for name in ("age", "gender", "race")
    }
    for name in ("age", "gender", "race"):
        assert np.abs(keras_outputs[name] - litert_outputs[name]).max() < 1e-3
        assert (keras_outputs[name].argmax(1) == litert_outputs[name].argmax(1)).mean() >= 0.995
    assert predict_arrays(network, test_split)["race"].shape == (2369, 5)
