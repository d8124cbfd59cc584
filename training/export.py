"""Export the trained Keras model to ``face2data.tflite`` for the LiteRT runtime, and check it.

Usage: ``python -m training.export [--model-dir model]``

The export is refused unless the ``.tflite`` outputs match the Keras model to within
``TOLERANCE`` on every test-split face, since serving only ever runs the ``.tflite``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from model.config import ModelConfig
from model.runtime import Network
from training.cli import artifact_parser
from training.dataset import load_splits_cached

TOLERANCE = 1e-3
log = logging.getLogger("training.export")


def export_tflite(keras_path: Path, tflite_path: Path, half_precision: bool = False) -> keras.Model:
    """Write the LiteRT flatbuffer of a saved Keras model; return the Keras model.

    ``half_precision`` stores the weights as float16 (computed in float32), for models whose
    weights ``training.pack`` already rounded: the file halves and the outputs stay put.
    """
    model = keras.saving.load_model(keras_path, compile=False)
    converter_settings = {"optimizations": [tf.lite.Optimize.DEFAULT], "target_spec": {"supported_types": [tf.float16]}} if half_precision else {}
    model.export(str(tflite_path), format="litert", verbose=False, **converter_settings)
    return model


def max_difference(model: keras.Model, network: Network, images: np.ndarray, batch_size: int = 256) -> float:
    """Largest absolute difference between Keras and LiteRT outputs over ``images``."""
    worst = 0.0
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        expected = model.predict_on_batch(batch)
        actual = network.run(batch)
        worst = max(worst, *(float(np.abs(np.asarray(expected[name]) - actual[name]).max()) for name in network.outputs))
    return worst


def main(argv: list[str] | None = None) -> float:
    args = artifact_parser("python -m training.export", __doc__).parse_args(argv)
    tflite_path = args.model_dir / "face2data.tflite"
    config = ModelConfig.from_file(args.model_dir / "config.json")
    model = export_tflite(args.model_dir / "face2data.keras", tflite_path, half_precision=config.raw.get("weights") == "float16")
    test = load_splits_cached(args.data, args.split, config.input_size, args.cache)["test"]
    difference = max_difference(model, Network(tflite_path, config.outputs), test.images)
    if difference > TOLERANCE:
        tflite_path.unlink()
        raise SystemExit(f"LiteRT output differs from Keras by {difference:.2e} > {TOLERANCE}: export refused")
    log.info("wrote %s (%.1f MB); max |Keras - LiteRT| on %d test faces = %.2e", tflite_path, tflite_path.stat().st_size / 1e6, len(test), difference)
    return difference


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
