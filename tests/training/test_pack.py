"""Packing a trained network: half-precision weights, deflated, exported exactly, with its config and history."""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from model.history import read_history
from model.runtime import Network
from training import faceres
from training.contract import OUTPUTS, contract
from training.export import TOLERANCE, export_tflite
from training.pack import pack, round_to_half

pytestmark = pytest.mark.training


def trained_like(size: int, seed: int) -> keras.Model:
    """A FaceRes network with small seeded heads, as ``training.finetune`` would save it (no training needed to differ)."""
    keras.utils.set_random_seed(seed)
    frozen, top = faceres.make_model(size, frozen_blocks=11, head_units=8)
    rng = np.random.default_rng(seed)
    for head in ("age", "gender", "race", "age_hidden", "gender_hidden", "race_hidden"):
        kernel, bias = top.get_layer(head).get_weights()
        top.get_layer(head).set_weights([kernel, rng.normal(0, 1, bias.shape)])  # random heads could read a flat feature alike
    return faceres.join(frozen, top, frozen_blocks=11)


def write_run(folder: Path, size: int, seed: int, epochs: int) -> Path:
    """A folder as ``training.finetune`` leaves it, for a network on tiny faces."""
    folder.mkdir(parents=True)
    trained_like(size, seed).save(folder / "face2data.keras")
    config = {**contract(size), "training": {"epochs": epochs, "best_epoch": 1, "frozen_blocks": 11, "seed": seed}, "wall_time_s": 10.0}
    (folder / "config.json").write_text(json.dumps(config))
    columns = "epoch,age_mae,gender_accuracy,loss,race_accuracy,val_age_mae,val_gender_accuracy,val_loss,val_race_accuracy"
    rows = [f"{epoch},9,0.6,3,0.4,8,0.7,2.5,0.5" for epoch in range(epochs)]
    (folder / "history.csv").write_text("\n".join([columns, *rows]) + "\n")
    return folder


def faces(count: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


def outputs_of(model: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in model.predict_on_batch(images).items()}


def test_rounding_keeps_float16_values_and_the_function_close():
    network = trained_like(32, seed=1)
    images = faces(8, 32)
    before = outputs_of(network, images)
    round_to_half(network)
    rounded = outputs_of(network, images)
    for name in OUTPUTS:
        assert np.abs(rounded[name] - before[name]).max() < 1e-2
    for weight in network.get_weights():
        assert np.array_equal(weight, weight.astype(np.float16).astype(np.float32))


@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("pack")
    pack(write_run(work / "run", 32, seed=1, epochs=3), work / "out")
    return work


def test_the_packed_network_is_the_run_at_half_precision(packed):
    model = keras.saving.load_model(packed / "out" / "face2data.keras", compile=False)
    trained = keras.saving.load_model(packed / "run" / "face2data.keras", compile=False)
    assert model.input_shape == (None, 32, 32, 3) and set(model.output_names) == set(OUTPUTS)
    images = faces(6, 32)
    actual, expected = outputs_of(model, images), outputs_of(trained, images)
    for name in OUTPUTS:
        assert 0 < np.abs(actual[name] - expected[name]).max() < 1e-2  # rounded: close, not equal
    for weight in model.get_weights():
        assert np.array_equal(weight, weight.astype(np.float16).astype(np.float32))
    with zipfile.ZipFile(packed / "out" / "face2data.keras") as stored:
        assert {info.compress_type for info in stored.infolist()} == {zipfile.ZIP_DEFLATED}


def test_the_packed_folder_carries_the_runs_contract_and_history(packed):
    config = json.loads((packed / "out" / "config.json").read_text())
    assert config["weights"] == "float16" and config["training"]["seed"] == 1
    assert {key: config[key] for key in contract(32)} == json.loads(json.dumps(contract(32)))
    assert len(read_history(packed / "out" / "history.csv")["epoch"]) == 3


def test_half_precision_export_matches_keras_at_half_the_size(packed, tmp_path):
    model = export_tflite(packed / "out" / "face2data.keras", tmp_path / "half.tflite", half_precision=True)
    export_tflite(packed / "out" / "face2data.keras", tmp_path / "full.tflite")
    assert (tmp_path / "half.tflite").stat().st_size < 0.6 * (tmp_path / "full.tflite").stat().st_size
    images = faces(16, 32, seed=3)
    expected = outputs_of(model, images)
    actual = Network(tmp_path / "half.tflite", tuple(OUTPUTS)).run(images)
    for name in OUTPUTS:
        assert np.abs(actual[name] - expected[name]).max() < TOLERANCE
        assert np.allclose(actual[name].sum(axis=1), 1, atol=1e-5)
