"""The shipped ensemble: members averaged in one Keras model, stored at half precision, exported exactly."""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from dashboard.layout import read_history
from model.runtime import OUTPUTS, Network
from training.architecture import make_model
from training.compact import fold_batch_norm, round_to_half
from training.ensemble import build
from training.export import TOLERANCE, export_tflite


def trained_like(size: int, seed: int) -> keras.Model:
    """A tiny network whose batch norms hold non-trivial statistics, as after training.

    Seeded whole (initial kernels included), so every run checks the same network.
    """
    keras.utils.set_random_seed(seed)
    network = make_model(size, widths=(8, 16))
    rng = np.random.default_rng(seed)
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.2, beta.shape),
                    rng.normal(0, 0.3, mean.shape),
                    rng.uniform(0.5, 2, variance.shape),
                ]
            )
    return network


def write_run(folder: Path, size: int, seed: int, epochs: int) -> Path:
    """A folder as ``training.train`` leaves it, for a tiny network."""
    folder.mkdir(parents=True)
    trained_like(size, seed).save(folder / "face2data.keras")
    config = {
        "input": {"size": size, "channels": 3, "dtype": "uint8", "color": "RGB"},
        "labels": {"gender": ["male", "female"], "race": ["White", "Black", "Asian", "Indian", "Others"], "age_years": [0, 116]},
        "preprocessing": "model.preprocess.preprocess",
        "test_time_augmentation": {"mirror": True, "zooms": [1.0]},
        "training": {"epochs": epochs, "best_epoch": 1, "widths": [8, 16], "blocks_per_stage": 1, "seed": seed},
        "wall_time_s": 10.0,
        "machine": "test",
    }
    (folder / "config.json").write_text(json.dumps(config))
    columns = "epoch,age_mae,gender_accuracy,loss,race_accuracy,val_age_mae,val_gender_accuracy,val_loss,val_race_accuracy"
    rows = [f"{epoch},9,0.6,3,0.4,8,0.7,2.5,0.5" for epoch in range(epochs)]
    (folder / "history.csv").write_text("\n".join([columns, *rows]) + "\n")
    return folder


def faces(count: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


def outputs_of(model: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in model.predict_on_batch(images).items()}


def test_folding_batch_norm_keeps_the_function_and_rounding_keeps_float16_values():
    network = trained_like(32, seed=1)
    images = faces(8, 32)
    before = outputs_of(network, images)
    fold_batch_norm(network)
    folded = outputs_of(network, images)
    round_to_half(network)
    rounded = outputs_of(network, images)
    for name in OUTPUTS:
        assert np.abs(folded[name] - before[name]).max() < 1e-4
        assert 0 < np.abs(rounded[name] - folded[name]).max() < 1e-2
    for weight in network.get_weights():
        assert np.array_equal(weight, weight.astype(np.float16).astype(np.float32))
    batch_norm = next(layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization))
    gamma, _, mean, variance = batch_norm.get_weights()
    assert batch_norm.epsilon == 0 and np.all(gamma == 1) and np.all(mean == 0) and np.all(variance == 1)


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("ensemble")
    # Three members: 1/3, unlike 1/2, is not exact at half precision.
    sizes_seeds_epochs = {"small": (32, 1, 2), "large": (48, 2, 3), "third": (48, 3, 1)}
    members = [write_run(work / folder, size, seed, epochs) for folder, (size, seed, epochs) in sizes_seeds_epochs.items()]
    build(members, work / "out", mirror=False)
    return work


def test_ensemble_averages_its_members_on_the_largest_input(ensemble):
    model = keras.saving.load_model(ensemble / "out" / "face2data.keras", compile=False)
    assert model.input_shape == (None, 48, 48, 3) and set(model.output_names) == set(OUTPUTS)
    images = faces(6, 48)
    small, large, third = (keras.saving.load_model(ensemble / folder / "face2data.keras", compile=False) for folder in ("small", "large", "third"))
    resized = np.asarray(keras.layers.Resizing(32, 32)(images.astype(np.float32))).round().astype(np.uint8)
    expected = {name: (outputs_of(small, resized)[name] + outputs_of(large, images)[name] + outputs_of(third, images)[name]) / 3 for name in OUTPUTS}
    actual = outputs_of(model, images)
    for name in OUTPUTS:
        # Half-precision weights and unrounded resized pixels: close, not equal.
        assert np.abs(actual[name] - expected[name]).max() < 2e-2
        assert np.allclose(actual[name].sum(axis=1), 1, atol=1e-5)


def test_ensemble_artifacts_describe_every_member(ensemble):
    out = ensemble / "out"
    config = json.loads((out / "config.json").read_text())
    assert config["input"]["size"] == 48 and config["weights"] == "float16"
    assert config["test_time_augmentation"] == {"mirror": False, "zooms": [1.0]}
    assert [member["input_size"] for member in config["training"]["members"]] == [32, 48, 48]
    assert config["training"]["epochs"] == 6 and config["wall_time_s"] == 30.0
    histories = read_history(out / "history.csv")
    assert [len(history["epoch"]) for history in histories] == [2, 3, 1]
    with zipfile.ZipFile(out / "face2data.keras") as stored:
        assert {info.compress_type for info in stored.infolist()} == {zipfile.ZIP_DEFLATED}


def test_half_precision_export_matches_keras_at_half_the_size(ensemble, tmp_path):
    model = export_tflite(ensemble / "out" / "face2data.keras", tmp_path / "half.tflite", half_precision=True)
    export_tflite(ensemble / "out" / "face2data.keras", tmp_path / "full.tflite")
    assert (tmp_path / "half.tflite").stat().st_size < 0.6 * (tmp_path / "full.tflite").stat().st_size
    images = faces(16, 48, seed=3)
    expected = outputs_of(model, images)
    actual = Network(tmp_path / "half.tflite").run(images)
    for name in OUTPUTS:
        assert np.abs(actual[name] - expected[name]).max() < TOLERANCE
        assert np.allclose(actual[name].sum(axis=1), 1, atol=1e-5)
