"""Store a trained network at half precision, with the ``.tflite`` exactly the ``.keras``.

The shipped artifacts must stay under 20 MB, and two networks at 32-bit precision do not fit.
At 16 bits they do, and the outputs move by under 2e-3 (accuracy on val is unchanged, see
docs/model.md). The catch is the export check: the LiteRT converter folds each batch norm
into the convolution before it and *then* rounds to 16 bits, so a ``.tflite`` made from a
rounded Keras model still differs from it by more than the 1e-3 the export allows. Folding
the batch norms first, and rounding after, makes the two files hold the same numbers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np
from keras import layers


def fold_batch_norm(network: keras.Model) -> None:
    """Move every batch norm's scale into the convolution that feeds it, in place.

    What stays in the batch norm is a plain bias (epsilon 0, mean 0, variance 1, gamma 1),
    which the converter folds without arithmetic. The network computes the same function.
    """
    for layer in network.layers:
        if not isinstance(layer, layers.BatchNormalization):
            continue
        convolution = layer.input._keras_history.operation
        if not isinstance(convolution, layers.Conv2D) or convolution.use_bias:
            raise ValueError(f"{layer.name} does not follow a bias-free convolution: cannot fold it")
        gamma, beta, mean, variance = (np.asarray(weight) for weight in layer.get_weights())
        scale = gamma / np.sqrt(variance + layer.epsilon)
        (kernel,) = convolution.get_weights()
        convolution.set_weights([kernel * scale])
        layer.epsilon = 0.0
        layer.set_weights([np.ones_like(gamma), beta - mean * scale, np.zeros_like(mean), np.ones_like(variance)])


def round_to_half(network: keras.Model) -> None:
    """Round every weight to the nearest float16 value (stored still as float32), in place."""
    for variable in network.weights:
        variable.assign(np.asarray(variable).astype(np.float16).astype(np.float32))


def save_deflated(model: keras.Model, path: Path) -> None:
    """Save a ``.keras`` file with its zip members compressed.

    Keras stores them uncompressed; float32 values rounded to float16 end in two mostly-zero
    bytes, so deflate about halves the weights file. Keras reads either kind of zip.
    """
    model.save(path)
    with zipfile.ZipFile(path) as stored:
        members = [(info.filename, stored.read(info)) for info in stored.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as deflated:
        for name, data in members:
            deflated.writestr(name, data)
