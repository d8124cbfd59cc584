"""The network at serving time: the exported ``.tflite`` under LiteRT, no TensorFlow.

LiteRT runs the network in a few milliseconds and ~50 MB, where TensorFlow needs seconds to
load and ~770 MB. One interpreter serves the whole process; a lock makes it safe to share
between threads, because a LiteRT interpreter holds its tensors as mutable state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from model.calibration import Calibration
from model.config import ModelConfig


def run_padded(run: Callable[[np.ndarray], list[np.ndarray]], items: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """``run`` over ``items`` in batches of fixed sizes: chunks of the largest, each padded with zeros to the smallest size that holds it.

    A LiteRT interpreter re-allocates every tensor when its batch shape changes; a few fixed
    shapes keep each one allocated once, and the padding costs less than one re-allocation.
    ``run`` returns several outputs per batch; each comes back with the padding cut off.
    """
    largest, parts = sizes[-1], []
    for start in range(0, len(items), largest):
        chunk = items[start : start + largest]
        size = next(size for size in sizes if size >= len(chunk))
        padded = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
        parts.append([output[: len(chunk)] for output in run(padded)])
    return [np.concatenate(outputs) for outputs in zip(*parts, strict=True)]


class Network:
    """A loaded ``.tflite`` Face2Data network: uint8 faces in, one distribution per named output out."""

    def __init__(self, tflite_path: Path, outputs: tuple[str, ...], threads: int = 2, calibration: Calibration | None = None) -> None:
        self.outputs = outputs
        self.calibration = calibration or Calibration(())
        self._interpreter = Interpreter(model_path=str(tflite_path), num_threads=threads)
        self._runner = self._interpreter.get_signature_runner()
        (self._input_name,) = self._interpreter.get_signature_list()["serving_default"]["inputs"]
        self._lock = threading.Lock()

    def run(self, faces: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs for a ``(n, size, size, 3)`` uint8 batch, keyed by output name."""
        if faces.dtype != np.uint8 or faces.ndim != 4:
            raise ValueError(f"expected a (n, size, size, 3) uint8 batch, got {faces.dtype} {faces.shape}")
        with self._lock:
            outputs = self._runner(**{self._input_name: faces})
        return {name: np.array(outputs[name]) for name in self.outputs}

    def predict(self, faces: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated outputs of each face, in one call."""
        if len(faces) == 0:
            return {name: np.zeros((0, 0), np.float32) for name in self.outputs}
        return self.calibration(self.run(faces))


def load_network(model_dir: Path, config: ModelConfig, calibrated: bool = True, threads: int = 2) -> Network:
    """The network of ``model_dir`` with the outputs and temperatures that ``config`` (its config.json) names.

    ``calibrated=False`` gives the raw probabilities, which ``training.calibrate`` fits on.
    """
    calibration = config.calibration if calibrated else Calibration(config.age_groups)
    return Network(Path(model_dir) / "face2data.tflite", config.outputs, threads, calibration)
