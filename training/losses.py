"""Age as a distribution over years: the loss and the metric that read it.

Predicting a softmax over 0..MAX_AGE and taking its expectation beats plain regression on
UTKFace and gives serving an age chart and an uncertainty for free. Both functions take the
true age in years as ``y_true`` and the predicted distribution as ``y_pred``.
"""

import keras
from keras import ops

from training.contract import MAX_AGE

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
