"""The shipped ensemble: members averaged in one Keras model, stored at half precision, exported exactly."""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from model.history import read_history
from model.labels import OUTPUTS
from model.runtime import Network
from training import faceres
from training.compact import round_to_half
from training.ensemble import build
from training.export import TOLERANCE, export_tflite

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
    config = {
        "input": {"size": size, "channels": 3, "dtype": "uint8", "color": "RGB"},
        "labels": {"gender": ["male", "female"], "race": ["White", "Black", "Asian", "Indian", "Others"], "age_years": [0, 116]},
        "preprocessing": "model.preprocess.preprocess",
        "test_time_augmentation": {"mirror": True, "zooms": [1.0]},
        "training": {"epochs": epochs, "best_epoch": 1, "backbone": "FaceRes", "frozen_blocks": 11, "seed": seed},
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
def ensemble(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("ensemble")
    # Three members: 1/3, unlike 1/2, is not exact at half precision.
    sizes_seeds_epochs = {"first": (32, 1, 2), "second": (32, 2, 3), "third": (32, 3, 1)}
    members = [write_run(work / folder, size, seed, epochs) for folder, (size, seed, epochs) in sizes_seeds_epochs.items()]
    build(members, work / "out", mirror=False)
    return work


def test_ensemble_averages_its_members(ensemble):
    model = keras.saving.load_model(ensemble / "out" / "face2data.keras", compile=False)
    assert model.input_shape == (None, 32, 32, 3) and set(model.output_names) == set(OUTPUTS)
    images = faces(6, 32)
    members = [
        outputs_of(keras.saving.load_model(ensemble / folder / "face2data.keras", compile=False), images) for folder in ("first", "second", "third")
    ]
    actual = outputs_of(model, images)
    for name in OUTPUTS:
        expected = sum(member[name] for member in members) / 3
        assert np.abs(actual[name] - expected).max() < 1e-2  # half-precision weights: close, not equal
        assert np.abs(members[0][name] - members[1][name]).max() > 1e-3  # the members really differ
        assert np.allclose(actual[name].sum(axis=1), 1, atol=1e-5)


def test_members_of_different_sizes_are_refused(ensemble, tmp_path):
    other = write_run(tmp_path / "other", 48, 4, 1)
    with pytest.raises(ValueError, match="one input size"):
        build([ensemble / "first", other], tmp_path / "out")


def test_a_single_member_ships_as_itself(ensemble, tmp_path):
    model = build([ensemble / "first"], tmp_path / "single")
    alone = keras.saving.load_model(ensemble / "first" / "face2data.keras", compile=False)
    images = faces(4, 32)
    for name in OUTPUTS:
        assert np.abs(outputs_of(model, images)[name] - outputs_of(alone, images)[name]).max() < 1e-2
    assert json.loads((tmp_path / "single" / "config.json").read_text())["training"]["members"][0]["frozen_blocks"] == 11


def test_ensemble_artifacts_describe_every_member(ensemble):
    out = ensemble / "out"
    config = json.loads((out / "config.json").read_text())
    assert config["input"]["size"] == 32 and config["weights"] == "float16"
    assert config["test_time_augmentation"] == {"mirror": False, "zooms": [1.0]}
    assert [member["seed"] for member in config["training"]["members"]] == [1, 2, 3]
    assert config["training"]["epochs"] == 6 and config["wall_time_s"] == 30.0
    histories = read_history(out / "history.csv")
    assert [len(history["epoch"]) for history in histories] == [2, 3, 1]
    with zipfile.ZipFile(out / "face2data.keras") as stored:
        assert {info.compress_type for info in stored.infolist()} == {zipfile.ZIP_DEFLATED}


def test_half_precision_export_matches_keras_at_half_the_size(ensemble, tmp_path):
    model = export_tflite(ensemble / "out" / "face2data.keras", tmp_path / "half.tflite", half_precision=True)
    export_tflite(ensemble / "out" / "face2data.keras", tmp_path / "full.tflite")
    assert (tmp_path / "half.tflite").stat().st_size < 0.6 * (tmp_path / "full.tflite").stat().st_size
    images = faces(16, 32, seed=3)
    expected = outputs_of(model, images)
    actual = Network(tmp_path / "half.tflite").run(images)
    for name in OUTPUTS:
        assert np.abs(actual[name] - expected[name]).max() < TOLERANCE
        assert np.allclose(actual[name].sum(axis=1), 1, atol=1e-5)
