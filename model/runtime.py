"""The network at serving time: the exported ``.tflite`` under LiteRT, no TensorFlow.

LiteRT runs the network in a few milliseconds and ~50 MB, where TensorFlow needs seconds to
load and ~770 MB. One interpreter serves the whole process; a lock makes it safe to share
between threads, because a LiteRT interpreter holds its tensors as mutable state.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

OUTPUTS = ("age", "gender", "race")


class Network:
    """A loaded ``.tflite`` Face2Data network: uint8 faces in, three distributions out."""

    def __init__(self, tflite_path: Path, threads: int = 2) -> None:
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
        return {name: np.array(outputs[name]) for name in OUTPUTS}

    def predict(self, faces: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs averaged over each face and its mirror image, in one batch.

        Faces are left-right symmetric, so the mirrored face is a free second opinion that
        reduces the error of every head; both go through the network in the same call.
        """
        count = len(faces)
        if count == 0:
            return {name: np.zeros((0, 0), np.float32) for name in OUTPUTS}
        outputs = self.run(np.concatenate([faces, faces[:, :, ::-1]]))
        return {name: (values[:count] + values[count:]) / 2 for name, values in outputs.items()}
