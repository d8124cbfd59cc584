"""Age as a distribution over years: the loss and the metric that read it.

Predicting a softmax over 0..MAX_AGE and taking its expectation beats plain regression on
UTKFace and gives serving an age chart and an uncertainty for free. Both functions take the
true age in years as ``y_true`` and the predicted distribution as ``y_pred``.
"""

import keras
import numpy as np
from keras import ops

from model.labels import MAX_AGE

AGE_SIGMA_YEARS = 2.0
"""Width of the Gaussian that spreads each true age over neighbouring years (label smoothing for age)."""
EXPECTATION_WEIGHT = 0.05
"""Weight of the L1 error of the expected age against the distribution's cross-entropy."""


def _expected_age(y_pred):
    years = ops.arange(MAX_AGE + 1, dtype="float32")
    return ops.sum(y_pred * years, axis=-1)


@keras.saving.register_keras_serializable(package="face2data")
def age_distribution_loss(y_true, y_pred):
    """Cross-entropy against a Gaussian around the true age, plus the L1 error of the expectation."""
    age = ops.reshape(ops.cast(y_true, "float32"), (-1, 1))
    years = ops.arange(MAX_AGE + 1, dtype="float32")[None, :]
    target = ops.exp(-0.5 * ops.square((years - age) / AGE_SIGMA_YEARS))
    target = target / ops.sum(target, axis=-1, keepdims=True)
    cross_entropy = -ops.sum(target * ops.log(ops.clip(y_pred, 1e-7, 1.0)), axis=-1)
    absolute_error = ops.abs(_expected_age(y_pred) - age[:, 0])
    return cross_entropy + EXPECTATION_WEIGHT * absolute_error


@keras.saving.register_keras_serializable(package="face2data")
def mae(y_true, y_pred):
    """Mean absolute error in years of the distribution's expected age (logged as ``age_mae``)."""
    return ops.abs(_expected_age(y_pred) - ops.reshape(ops.cast(y_true, "float32"), (-1,)))


def class_balance_weights(labels: np.ndarray | list[int], classes: int, power: float) -> np.ndarray:
    """Weight of each class, ``(share of the class) ** -power``, scaled so the average training face weighs 1.

    ``power`` 0 is the plain loss, 1 full inverse frequency; in between (0.5, inverse square
    root) lifts rare races such as "Others" (7% of UTKFace) without letting a handful of
    faces dominate the gradient. Scaling to an average of 1 keeps the race loss on the same
    footing as age and gender, so their loss weights keep their meaning.
    """
    counts = np.bincount(np.asarray(labels), minlength=classes).astype("float64")
    weights = (counts.sum() / np.maximum(counts, 1)) ** power
    return (weights / (weights * counts).sum() * counts.sum()).astype("float32")


@keras.saving.register_keras_serializable(package="face2data")
class ClassBalancedCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy where each face weighs as its class does.

    A face's weight is its (possibly mixed-up, soft) one-hot label dotted with the class
    weights, so mixup blends the weights exactly as it blends the labels.
    """

    def __init__(self, class_weights, label_smoothing: float = 0.0, name: str = "class_balanced_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.class_weights = [float(weight) for weight in class_weights]
        self.label_smoothing = label_smoothing
        self._crossentropy = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing, reduction=None)

    def call(self, y_true, y_pred):
        weight = ops.sum(ops.cast(y_true, "float32") * ops.convert_to_tensor(self.class_weights, "float32"), axis=-1)
        return weight * self._crossentropy(y_true, y_pred)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_weights": self.class_weights, "label_smoothing": self.label_smoothing}
