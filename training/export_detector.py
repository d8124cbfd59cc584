"""Export the three MTCNN networks of the ``mtcnn`` package to ``.tflite`` for serving.

Usage: ``python -m training.export_detector [--out model/detector]``

The ``mtcnn`` wheel ships its weights (MIT licence) but needs TensorFlow to run them.
Serving must not import TensorFlow, so the networks are converted once here and committed.
Their variables are frozen into constants first: left as resource variables, the
``.tflite`` fails on ``READ_VARIABLE`` without XNNPACK and silently returns NaN with it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
from mtcnn.stages import StageONet, StagePNet, StageRNet
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from model.config import MODEL_DIR

log = logging.getLogger("training.export_detector")

NETWORKS = {
    # name: (stage class, input signature; P-Net is fully convolutional, so any image size)
    "pnet": (StagePNet, [1, None, None, 3]),
    "rnet": (StageRNet, [None, 24, 24, 3]),
    "onet": (StageONet, [None, 48, 48, 3]),
}


def export_network(stage_class: type, input_shape: list, path: Path) -> None:
    """Freeze one MTCNN network and write it as a ``.tflite`` flatbuffer."""
    network = stage_class().model
    function = tf.function(lambda image: network(image)).get_concrete_function(tf.TensorSpec(input_shape, tf.float32, name="image"))
    frozen = convert_variables_to_constants_v2(function)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    path.write_bytes(converter.convert())


def check_network(stage_class: type, input_shape: list, path: Path) -> float:
    """Largest absolute difference between TensorFlow and LiteRT on a random input."""
    from ai_edge_litert.interpreter import Interpreter

    shape = [dimension or size for dimension, size in zip(input_shape, [2, 120, 160, 3], strict=True)]
    sample = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    expected = [np.asarray(output) for output in stage_class().model(sample)]
    interpreter = Interpreter(model_path=str(path))
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample)
    interpreter.invoke()
    actual = sorted((interpreter.get_tensor(detail["index"]) for detail in interpreter.get_output_details()), key=lambda a: a.shape[-1])
    expected = sorted(expected, key=lambda a: a.shape[-1])
    return max(float(np.abs(a - b).max()) for a, b in zip(actual, expected, strict=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.export_detector", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "detector")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (stage_class, input_shape) in NETWORKS.items():
        path = args.out / f"{name}.tflite"
        export_network(stage_class, input_shape, path)
        difference = check_network(stage_class, input_shape, path)
        if difference > 1e-4:
            raise SystemExit(f"{name}: LiteRT differs from TensorFlow by {difference:.2e}")
        log.info("wrote %s (%d kB), max |TF - LiteRT| = %.1e", path, path.stat().st_size // 1024, difference)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
