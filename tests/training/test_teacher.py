"""The distillation teacher: dlib embeddings of real faces, and honest (cross-fitted) probabilities."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import FIXTURES
from training import teacher
from training.teacher import FaceEmbedder, cross_fitted_probabilities, embed_split_faces, make_probe

SAME_PERSON = 0.6
"""dlib's documented distance below which two embeddings are the same person."""


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def embedder() -> FaceEmbedder:
    return FaceEmbedder()


def test_embedding_knows_a_degraded_copy_from_another_person(embedder):
    crop = Image.open(FIXTURES / "utkface_crop.jpg")
    degraded = io.BytesIO()
    crop.convert("RGB").resize((150, 150)).resize(crop.size).save(degraded, "JPEG", quality=40)
    face = embedder.embed(_rgb(crop))
    same = np.linalg.norm(face - embedder.embed(_rgb(Image.open(degraded))))
    other = np.linalg.norm(face - embedder.embed(_rgb(Image.open(FIXTURES / "astronaut.png"))))
    assert face.shape == (128,) and face.dtype == np.float32
    assert same < SAME_PERSON / 2 < SAME_PERSON < other, (same, other)


def test_embed_split_faces_reads_only_the_asked_splits_and_skips_malformed_names(tmp_path):
    crop = (FIXTURES / "utkface_crop.jpg").read_bytes()
    names = {
        "30_0_0_1.jpg.chip.jpg": "train",
        "31_1_2_2.jpg.chip.jpg": "val",
        "32_0_1_3.jpg.chip.jpg": "test",
        "39_1_20170116174525125.jpg.chip.jpg": "train",
    }
    (tmp_path / "faces").mkdir()
    for name in names:
        (tmp_path / "faces" / name).write_bytes(crop)
    pd.DataFrame({"file": list(names), "split": list(names.values())}).to_csv(tmp_path / "split.csv", index=False)
    files, embeddings = embed_split_faces(tmp_path / "faces", tmp_path / "split.csv", ("train", "val"), jobs=1)
    assert sorted(files) == ["30_0_0_1.jpg.chip.jpg", "31_1_2_2.jpg.chip.jpg"]
    assert embeddings.shape == (2, 128)
    np.testing.assert_allclose(embeddings[0], embeddings[1], atol=1e-5)


def test_cross_fitted_probabilities_learn_a_signal_but_cannot_memorise_noise():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(600, 16)).astype(np.float32)
    signal = embeddings[:, :3].argmax(1)
    noise = rng.integers(0, 3, size=600)

    learned = cross_fitted_probabilities(embeddings, signal, classes=3)
    guessed = cross_fitted_probabilities(embeddings, noise, classes=3)
    # The same probe trained to the end, without early stopping, memorises its own faces' noise.
    memorised = make_probe(0).set_params(mlpclassifier__early_stopping=False).fit(embeddings, noise).score(embeddings, noise)

    np.testing.assert_allclose(learned.sum(1), 1, atol=1e-5)
    assert (learned.argmax(1) == signal).mean() > 0.85
    # A face's guess comes from probes that never saw it, so label noise stays at chance.
    assert (guessed.argmax(1) == noise).mean() < 0.45 < memorised


def test_main_writes_targets_for_train_faces_only(tmp_path):
    rng = np.random.default_rng(1)
    rows = [(f"{20 + i % 50}_{i % 2}_{i % 5}_{i}.jpg.chip.jpg", "train" if i < 200 else "val") for i in range(250)]
    files = np.array([name for name, _ in rows])
    labels = np.array([[i % 2, i % 5] for i in range(250)])
    embeddings = np.concatenate([np.eye(2)[labels[:, 0]], np.eye(5)[labels[:, 1]], rng.normal(size=(250, 8))], axis=1).astype(np.float32)
    pd.DataFrame(rows, columns=["file", "split"]).to_csv(tmp_path / "split.csv", index=False)
    (tmp_path / "cache").mkdir()
    np.savez(tmp_path / "cache" / "dlib-embeddings.npz", files=files, embeddings=embeddings)

    out = tmp_path / "teacher.npz"
    teacher.main(
        teacher.parse_args(["--data", str(tmp_path), "--split", str(tmp_path / "split.csv"), "--out", str(out), "--cache", str(tmp_path / "cache")])
    )

    stored = np.load(out)
    assert list(stored["files"]) == list(files[:200])
    assert stored["gender"].shape == (200, 2) and stored["race"].shape == (200, 5)
    assert (stored["race"].argmax(1) == labels[:200, 1]).mean() > 0.9
