"""Store a trained network at half precision, so the artifacts stay small.

Every weight is rounded to the nearest float16 value (still held as float32 in Keras), and the
export stores the ``.tflite`` weights at float16 too, so both files hold the same numbers and
the export check compares like with like. FaceRes's own weights were float16 in the package;
the fine-tuned ones move by under 1e-3 (docs/model.md).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np


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
