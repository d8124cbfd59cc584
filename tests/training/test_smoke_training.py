"""Train one epoch on a few dozen real UTKFace images, then export and evaluate the result."""

import json
import tarfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from model.predictor import Predictor
from training import evaluate, export
from training.dataset import read_split
from training.train import parse_args, train


@pytest.fixture(scope="module")
def small_utkface(datasets, tmp_path_factory) -> Path:
    """An unpacked folder with 32 train, 16 val and 16 test images from the real archive."""
    folder = tmp_path_factory.mktemp("utk") / "UTKFace"
    folder.mkdir()
    wanted = {"train": 32, "val": 16, "test": 16}
    split_of = read_split(datasets / "utkface_split.csv")
    with tarfile.open(datasets / "UTKFace.tar.gz") as archive:
        for member in archive:
            name = Path(member.name).name
            split = split_of.get(name)
            if wanted.get(split, 0) > 0:
                (folder / name).write_bytes(archive.extractfile(member).read())
                wanted[split] -= 1
            if not any(wanted.values()):
                break
    return folder


@pytest.fixture(scope="module")
def trained(small_utkface, datasets, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("run")
    args = parse_args(
        [
            "--data",
            str(small_utkface),
            "--split",
            str(datasets / "utkface_split.csv"),
            "--epochs",
            "1",
            "--out",
            str(work / "out"),
            "--batch-size",
            "16",
            "--cache",
            str(work / "cache"),
            "--verbose",
            "0",
        ]
    )
    return train(args)


def train_one_epoch_from(trained: Path, small_utkface: Path, datasets: Path, out: Path, *options: str) -> Path:
    """One epoch on the small dataset starting from the ``trained`` run's weights; returns the new run's folder.

    The cache sits beside ``out`` so the runs of one test share their decoded faces.
    """
    common = ["--data", str(small_utkface), "--split", str(datasets / "utkface_split.csv"), "--epochs", "1", "--out", str(out)]
    start = ["--cache", str(out.parent / "cache"), "--verbose", "0", "--initial-weights", str(trained / "face2data.keras")]
    return train(parse_args([*common, *start, *options]))


def test_training_writes_every_artifact(trained):
    assert {"face2data.keras", "history.csv", "config.json"} <= {path.name for path in trained.iterdir()}
    history = pd.read_csv(trained / "history.csv")
    for column in ("loss", "gender_accuracy", "race_accuracy", "age_mae"):
        assert column in history and f"val_{column}" in history
    assert len(history) == 1
    config = json.loads((trained / "config.json").read_text())
    assert config["input"]["size"] == 64 and config["labels"]["race"] == ["White", "Black", "Asian", "Indian", "Others"]
    assert config["training"]["images"] == {"train": 32, "val": 16}
    assert config["wall_time_s"] > 0 and "CPU" in config["machine"] and len(config["dataset"]["sha256"]) > 20


def test_saved_model_loads_with_three_named_outputs(trained):
    model = keras.saving.load_model(trained / "face2data.keras", compile=False)
    outputs = model.predict(np.zeros((2, 64, 64, 3), np.uint8), verbose=0)
    assert {name: value.shape for name, value in outputs.items()} == {"age": (2, 117), "gender": (2, 2), "race": (2, 5)}
    assert getattr(model, "optimizer", None) is None  # shipped without optimizer state


def test_export_matches_keras_and_evaluation_writes_metrics(trained, small_utkface, datasets, tmp_path):
    common = ["--model-dir", str(trained), "--data", str(small_utkface), "--split", str(datasets / "utkface_split.csv"), "--cache", str(tmp_path)]
    assert export.main(common) <= export.TOLERANCE
    metrics = evaluate.main(common)
    assert metrics["n_images"] == 16
    assert json.loads((trained / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    faces = Predictor(trained).predict(Image.open(next(small_utkface.iterdir())).convert("RGB"))
    assert faces and abs(sum(faces[0].race.values()) - 1) < 1e-4


def test_fine_tuning_at_another_size_starts_from_given_weights(trained, small_utkface, datasets, tmp_path):
    run = train_one_epoch_from(
        trained, small_utkface, datasets, tmp_path / "tuned", "--batch-size", "16", "--image-size", "48", "--learning-rate", "0"
    )
    tuned = keras.saving.load_model(run / "face2data.keras", compile=False)
    source = keras.saving.load_model(trained / "face2data.keras", compile=False)
    assert tuned.input_shape == (None, 48, 48, 3)
    # With a zero learning rate only batch-norm statistics may move: every convolution kernel is the source's.
    kernels = [(a, b) for a, b in zip(source.weights, tuned.weights, strict=True) if "kernel" in a.path]
    assert kernels and all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in kernels)
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["training"]["initial_weights"].endswith("face2data.keras")


def test_weight_averaging_ships_the_average_not_the_last_weights(trained, small_utkface, datasets, tmp_path):
    source = keras.saving.load_model(trained / "face2data.keras", compile=False)

    def kernel_change(*extra: str) -> float:
        run = train_one_epoch_from(
            trained, small_utkface, datasets, tmp_path / f"run{len(extra)}", "--batch-size", "8", "--learning-rate", "1e-2", *extra
        )
        tuned = keras.saving.load_model(run / "face2data.keras", compile=False)
        pairs = [(a, b) for a, b in zip(source.weights, tuned.weights, strict=True) if "kernel" in a.path]
        return float(np.sqrt(sum(np.sum((np.asarray(a) - np.asarray(b)) ** 2) for a, b in pairs)))

    # Four steps; an average with momentum ~1 stays at the weights after the first of them.
    averaged, last = kernel_change("--ema", "0.999999"), kernel_change()
    assert 0 < averaged < 0.8 * last, (averaged, last)
    assert json.loads((tmp_path / "run2" / "config.json").read_text())["training"]["ema_momentum"] == 0.999999


def test_fine_tuned_faceres_keeps_its_stem_trains_its_top_and_joins_an_ensemble(trained, small_utkface, datasets, tmp_path):
    from training import faceres
    from training.ensemble import build
    from training.finetune import finetune
    from training.finetune import parse_args as finetune_args

    common = ["--data", str(small_utkface), "--split", str(datasets / "utkface_split.csv"), "--epochs", "1", "--out", str(tmp_path / "faceres")]
    options = ["--image-size", "64", "--frozen-blocks", "11", "--views", "2", "--batch-size", "16", "--learning-rate", "1e-2", "--warmup-epochs", "0"]
    run = finetune(finetune_args([*common, *options, "--cache", str(tmp_path / "cache"), "--verbose", "0"]))
    config = json.loads((run / "config.json").read_text())
    assert config["input"]["size"] == 64 and config["training"]["frozen_blocks"] == 11 and config["training"]["backbone"].startswith("HSE FaceRes")
    assert len(list((tmp_path / "cache").glob("faceres-64px-11blocks-*-train-2views.npy"))) == 1
    history = pd.read_csv(run / "history.csv")
    assert len(history) == 1 and {"val_race_accuracy", "val_age_mae", "val_selection_error"} <= set(history)

    tuned = keras.saving.load_model(run / "face2data.keras", compile=False)
    pretrained = faceres.stem(64, len(faceres.BLOCKS))
    faceres.load_pretrained(pretrained, faceres.read_graph()[1])
    for name, changed in (("conv1", False), ("conv_pw_11", False), ("conv_pw_13", True)):
        same = np.array_equal(np.asarray(tuned.get_layer(name).weights[0]), np.asarray(pretrained.get_layer(name).weights[0]))
        assert same != changed, name

    ensemble = build([run, trained], tmp_path / "ensemble", mirror=False)
    faces = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    together, alone = ensemble.predict_on_batch(faces), tuned.predict_on_batch(faces)
    assert ensemble.input_shape == (None, 64, 64, 3) and together["race"].shape == (3, 5)
    assert np.abs(together["race"] - alone["race"]).max() > 1e-4  # the second member counts
    members = json.loads((tmp_path / "ensemble" / "config.json").read_text())["training"]["members"]
    assert [bool(member.get("backbone")) for member in members] == [True, False]
