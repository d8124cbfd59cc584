"""The outside validation sets: an identity split that keeps a person on one side, and figures that mean what they say."""

import numpy as np
import pytest

from training.contract import GENDERS, RACES
from training.dataset import SplitArrays
from training.outside import LAG_TRAIN_SHARE, SETS, OutsideSet, lag_part, markdown_table, outside_metrics, read_labels


def _set(gender: list[int], race: list[int], age: list[float]) -> OutsideSet:
    n = len(gender)
    arrays = SplitArrays(
        np.array([f"{i}.jpg" for i in range(n)]), np.zeros((n, 8, 8, 3), np.uint8), np.array(age, np.float32), np.array(gender), np.array(race)
    )
    return OutsideSet(arrays, np.array([True] * (n - 1) + [False]))


def test_lag_identities_fall_wholly_on_one_side(outside):
    labels = read_labels(outside)
    train, held_out = labels["lag train"], labels["lag young, held-out"].merge(labels["lag adult, held-out"], how="outer")
    assert not set(train["identity"]) & set(held_out["identity"])
    assert {"young", "adult"} == set(train["group"]) == set(held_out["group"])
    share = train["identity"].nunique() / (train["identity"].nunique() + held_out["identity"].nunique())
    assert abs(share - LAG_TRAIN_SHARE) < 0.08
    assert labels["frl"]["race"].dropna().isin(RACES).all() and labels["frl"]["gender"].isin(GENDERS).all()


def test_the_split_is_a_fixed_function_of_the_name():
    assert [lag_part("aaliyah") for _ in range(3)] == [lag_part("aaliyah")] * 3
    parts = {lag_part(f"person_{i}") for i in range(50)}
    assert parts == {"train", "held_out"}


def test_figures_count_only_the_labels_a_set_has():
    part = _set(gender=[0, 1, 1, 0], race=[4, 0, -1, 4], age=[20, 30, np.nan, 40])
    outputs = {
        "gender": np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]),
        "race": np.array([[0, 0, 0, 0, 1], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]], float),
        "age": np.eye(117)[[22, 30, 5, 35]],
    }
    report = outside_metrics(outputs, part)
    assert report["n_images"] == 4 and report["faces_detected"] == 0.75
    assert report["gender_accuracy"] == 0.5
    assert report["race_accuracy"] == pytest.approx(1 / 3, abs=1e-4)  # the unlabelled face is left out
    assert report["others_recall"] == 0.5
    assert report["age_mae"] == pytest.approx((2 + 0 + 5) / 3, abs=1e-4)
    gender_only = outside_metrics({**outputs}, _set(gender=[0, 1, 1, 0], race=[-1] * 4, age=[np.nan] * 4))
    assert "race_accuracy" not in gender_only and "age_mae" not in gender_only
    table = markdown_table({SETS[0]: gender_only, SETS[2]: report})
    assert table.count("\n") == 3 and "| - |" in table and "50.0%" in table
