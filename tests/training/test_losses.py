"""Age as a distribution: the loss prefers mass on the true age, and the metric reads the expectation."""

import numpy as np
import pytest

from training.contract import MAX_AGE
from training.losses import age_distribution_loss, mae


def peaked_at(age: float, width: float = 1.0) -> np.ndarray:
    years = np.arange(MAX_AGE + 1)
    weights = np.exp(-0.5 * ((years - age) / width) ** 2)
    return (weights / weights.sum()).astype("float32")[None]


def test_the_loss_is_lowest_for_a_distribution_on_the_true_age():
    truth = np.array([30.0], "float32")
    losses = [float(age_distribution_loss(truth, peaked_at(guess))[0]) for guess in (10, 25, 30, 35, 60)]
    assert losses.index(min(losses)) == 2
    assert losses[0] > losses[1] > losses[2] < losses[3] < losses[4]


def test_mae_is_the_error_of_the_expected_age():
    assert float(mae(np.array([30.0], "float32"), peaked_at(40.0))[0]) == pytest.approx(10.0, abs=1e-3)
