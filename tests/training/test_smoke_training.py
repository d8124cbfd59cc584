"""Fine-tune FaceRes for one epoch on a few dozen real UTKFace images, then export, calibrate and evaluate the result."""

import json
import tarfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from model.predictor import Predictor
from training import calibrate, evaluate, export, faceres
from training.dataset import read_split
from training.finetune import finetune, parse_args

pytestmark = pytest.mark.training


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
def trained(small_utkface, datasets, outside, tmp_path_factory) -> Path:
    return fine_tune(small_utkface, datasets, tmp_path_factory.mktemp("run") / "out", "--outside", str(outside), "--limit", "24")


def fine_tune(small_utkface: Path, datasets: Path, out: Path, *options: str) -> Path:
    """One epoch at 64 px with blocks 12-13 trained; the cache sits beside ``out`` so the runs of one test share it."""
    common = ["--data", str(small_utkface), "--split", str(datasets / "utkface_split.csv"), "--epochs", "1", "--out", str(out)]
    small = ["--image-size", "64", "--frozen-blocks", "11", "--views", "2", "--batch-size", "16", "--warmup-epochs", "0"]
    return finetune(parse_args([*common, *small, "--cache", str(out.parent / "cache"), "--verbose", "0", *options]))


def pretrained_kernel(layer: str) -> np.ndarray:
    """The kernel of one FaceRes layer as the package ships it."""
    network = faceres.stem(64, len(faceres.BLOCKS))
    faceres.load_pretrained(network, faceres.read_graph()[1])
    return np.asarray(network.get_layer(layer).weights[0])


def test_fine_tuning_writes_every_artifact(trained):
    assert {"face2data.keras", "history.csv", "config.json"} <= {path.name for path in trained.iterdir()}
    history = pd.read_csv(trained / "history.csv")
    for column in ("loss", "gender_accuracy", "race_accuracy", "age_mae", "selection_error"):
        assert f"val_{column}" in history
    assert len(history) == 1
    config = json.loads((trained / "config.json").read_text())
    assert config["input"]["size"] == 64 and config["labels"]["race"] == ["White", "Black", "Asian", "Indian", "Others"]
    assert config["age"]["years"] == [0, 116] and config["age"]["groups"][-1] == {"label": "70+", "first": 70, "last": 116}
    assert config["training"]["images"] == {"train": 24, "val": 16, "lag_train": 24}
    assert config["training"]["lag_repeats"] == 3 and config["training"]["cut_by_frame"]["fill"] == "edge pixels repeated"
    assert config["training"]["frozen_blocks"] == 11 and config["training"]["backbone"].startswith("HSE FaceRes")
    assert "BGR" in config["preprocessing"] and "caffe means" in config["preprocessing"]
    assert config["wall_time_s"] > 0 and "CPU" in config["machine"] and len(config["dataset"]["sha256"]) > 20
    assert len(list((trained.parent / "cache").glob("faceres-64px-11blocks-*-cut-limit24-train-lag24-2views.npy"))) == 1


def test_saved_model_loads_with_three_named_outputs(trained):
    model = keras.saving.load_model(trained / "face2data.keras", compile=False)
    outputs = model.predict(np.zeros((2, 64, 64, 3), np.uint8), verbose=0)
    assert {name: value.shape for name, value in outputs.items()} == {"age": (2, 117), "gender": (2, 2), "race": (2, 5)}
    assert getattr(model, "optimizer", None) is None  # shipped without optimizer state


def test_the_stem_keeps_its_pretrained_weights_and_the_top_trains(small_utkface, datasets, tmp_path):
    run = fine_tune(small_utkface, datasets, tmp_path / "tuned", "--learning-rate", "1e-2", "--lag-repeats", "0")
    tuned = keras.saving.load_model(run / "face2data.keras", compile=False)
    for name, changed in (("conv1", False), ("conv_pw_11", False), ("conv_pw_13", True)):
        same = np.array_equal(np.asarray(tuned.get_layer(name).weights[0]), pretrained_kernel(name))
        assert same != changed, name


def test_export_calibration_and_evaluation_write_what_serving_reads(trained, small_utkface, datasets, tmp_path):
    common = ["--model-dir", str(trained), "--data", str(small_utkface), "--split", str(datasets / "utkface_split.csv"), "--cache", str(tmp_path)]
    assert export.main(common) <= export.TOLERANCE
    temperatures = calibrate.main(common)
    assert set(json.loads((trained / "config.json").read_text())["calibration"]["temperatures"]) == set(temperatures) == {"gender", "race"}
    metrics = evaluate.main(common)
    assert metrics["n_images"] == 16 and {"ece_before", "ece_after", "before", "after"} <= set(metrics["calibration"]["race"])
    assert json.loads((trained / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    faces = Predictor(trained).predict(Image.open(next(small_utkface.iterdir())).convert("RGB"))
    assert faces and abs(sum(faces[0].race.values()) - 1) < 1e-4
