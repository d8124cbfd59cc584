"""Temperature scaling: labels never change, and the fit finds a known temperature."""

import numpy as np
import pytest

from model.calibration import Calibration, temper
from training.calibrate import fit_temperature, fit_temperatures
from training.metrics import ECE_BINS, calibration_report, reliability


def random_probabilities(rng: np.random.Generator, count: int, classes: int, sharpness: float = 3.0) -> np.ndarray:
    logits = rng.normal(0, sharpness, (count, classes))
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def test_temper_keeps_labels_and_moves_confidence_the_right_way():
    probabilities = random_probabilities(np.random.default_rng(0), 500, 5)
    for temperature in (0.5, 2.0):
        tempered = temper(probabilities, temperature)
        np.testing.assert_allclose(tempered.sum(axis=1), 1.0, atol=1e-5)
        assert (tempered.argmax(axis=1) == probabilities.argmax(axis=1)).all()
    assert (temper(probabilities, 2.0).max(axis=1) <= probabilities.max(axis=1) + 1e-6).all()
    assert (temper(probabilities, 0.5).max(axis=1) >= probabilities.max(axis=1) - 1e-6).all()
    np.testing.assert_allclose(temper(probabilities, 1.0), probabilities, atol=1e-6)
    with pytest.raises(ValueError):
        temper(probabilities, 0.0)


GROUPS = (("child", 0, 1), ("adult", 2, 3))


def test_calibration_tempers_only_the_named_heads_by_each_faces_predicted_age_group():
    outputs = {"gender": np.array([[0.9, 0.1], [0.9, 0.1]]), "age": np.array([[0.8, 0.2, 0, 0], [0, 0, 0.2, 0.8]])}
    calibrated = Calibration(GROUPS, {"gender": {"child": 2.0, "adult": 0.5}})(outputs)
    assert calibrated["gender"][0, 0] == pytest.approx(0.75, abs=1e-4)  # the child's: 3/(3+1), sqrt of the odds 9
    assert calibrated["gender"][1, 0] == pytest.approx(81 / 82, abs=1e-4)  # the adult's: the odds squared
    assert calibrated["age"] is outputs["age"]
    assert Calibration(GROUPS)(outputs)["gender"] is outputs["gender"]


def test_each_age_group_gets_the_temperature_of_its_own_faces():
    rng = np.random.default_rng(3)
    truth = random_probabilities(rng, 6000, 2, sharpness=1.5)
    labels = np.array([rng.choice(2, p=row) for row in truth])
    child = np.arange(6000) < 3000
    said = np.where(child[:, None], temper(truth, 1 / 1.8), temper(truth, 1.6))  # too sure of children, too shy of adults
    age = np.where(child[:, None], [[1.0, 0, 0, 0]], [[0, 0, 0, 1.0]])
    fitted = fit_temperatures({"gender": said, "age": age}, {"gender": labels}, GROUPS)["gender"]
    assert fitted["child"] == pytest.approx(1.8, rel=0.1) and fitted["adult"] == pytest.approx(1 / 1.6, rel=0.1)
    few = fit_temperatures({"gender": said[:3040], "age": age[:3040]}, {"gender": labels[:3040]}, GROUPS)["gender"]
    assert few["adult"] == pytest.approx(fit_temperature(said[:3040], labels[:3040]), abs=1e-3)  # 40 adults: the head's own


def test_fit_recovers_the_temperature_of_overconfident_probabilities():
    rng = np.random.default_rng(1)
    truth = random_probabilities(rng, 20_000, 5, sharpness=1.5)
    labels = np.array([rng.choice(5, p=row) for row in truth])
    overconfident = temper(truth, 1 / 1.8)  # what a network that is 1.8x too sure would say
    assert fit_temperature(overconfident, labels) == pytest.approx(1.8, rel=0.05)
    before, after = reliability(overconfident, labels)["ece"], reliability(temper(overconfident, 1.8), labels)["ece"]
    assert before > 0.05 and after < 0.015


def test_reliability_bins_count_every_face_once():
    rng = np.random.default_rng(2)
    probabilities = random_probabilities(rng, 1000, 2)
    labels = rng.integers(0, 2, 1000)
    bins = reliability(probabilities, labels)["bins"]
    assert sum(row["n"] for row in bins) == 1000 and len(bins) <= ECE_BINS
    assert all(row["low"] <= row["confidence"] <= row["high"] for row in bins)
    raw = {"gender": probabilities, "race": random_probabilities(rng, 1000, 5), "age": np.tile([0.0, 0.0, 1.0, 0.0], (1000, 1))}
    report = calibration_report(
        raw, {"gender": labels, "race": rng.integers(0, 5, 1000)}, Calibration(GROUPS, {"gender": {"child": 3.0, "adult": 1.0}})
    )
    assert report["gender"]["ece_before"] == report["gender"]["ece_after"]  # every face an adult, whose temperature is 1
    assert report["gender"]["temperature"] == {"child": 3.0, "adult": 1.0} and report["race"]["temperature"] == {}
