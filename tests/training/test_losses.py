"""The class-balanced race loss: weights that favour rare races without changing the loss's scale."""

import keras
import numpy as np
import pytest

from training.losses import ClassBalancedCrossentropy, class_balance_weights

# A skewed training set like UTKFace's races: 60% / 30% / 10%.
LABELS = [0] * 60 + [1] * 30 + [2] * 10


def test_rarer_classes_weigh_more_and_the_average_face_weighs_one():
    weights = class_balance_weights(LABELS, classes=3, power=0.5)
    assert weights[0] < weights[1] < weights[2]
    assert weights[LABELS].mean() == pytest.approx(1.0)
    # Inverse square root: a class 6x rarer weighs sqrt(6)x more.
    assert weights[2] / weights[0] == pytest.approx(6**0.5)


def test_power_zero_is_the_plain_loss():
    assert np.allclose(class_balance_weights(LABELS, classes=3, power=0.0), 1.0)
    rng = np.random.default_rng(0)
    truth = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    predicted = keras.ops.convert_to_numpy(keras.ops.softmax(rng.normal(size=(16, 3)).astype("float32")))
    plain = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(truth, predicted)
    balanced = ClassBalancedCrossentropy([1.0, 1.0, 1.0], label_smoothing=0.1)(truth, predicted)
    assert float(balanced) == pytest.approx(float(plain), rel=1e-6)


def test_a_face_weighs_as_its_class_and_a_mixed_up_face_as_the_blend():
    loss = ClassBalancedCrossentropy([1.0, 2.0, 4.0], reduction=None)
    predicted = np.full((3, 3), 1 / 3, dtype="float32")
    truth = np.array([[1, 0, 0], [0, 0, 1], [0.5, 0, 0.5]], dtype="float32")
    per_face = keras.ops.convert_to_numpy(loss(truth, predicted))
    assert per_face == pytest.approx(np.log(3) * np.array([1.0, 4.0, 2.5]), rel=1e-5)


def test_the_loss_survives_a_config_round_trip():
    loss = ClassBalancedCrossentropy([0.5, 2.0], label_smoothing=0.1)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert restored.class_weights == [0.5, 2.0] and restored.label_smoothing == 0.1
