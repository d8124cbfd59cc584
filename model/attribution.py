"""Which parts of the face drove a prediction: SHAP attributions over the aligned face.

Partition SHAP (``model.partition_shap``, shap's Partition explainer with its Image masker) is
model-agnostic: it only calls the LiteRT prediction function, so explanations need no
TensorFlow. Hidden regions are replaced by a blurred copy of the same face (computed with
Pillow) rather than by black, so a masked face still looks like a face, just without detail,
and the map shows where *detail* mattered.
"""

from __future__ import annotations

import base64
import io
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from model.age import expected_age
from model.partition_shap import partition_shap_values
from model.predictor import FacePrediction, Predictor
from model.runtime import run_padded

MAX_EVALS = 250
"""Model evaluations per explanation, chosen by measurement (see ``benchmarks/explain.py``)."""
SHAP_BATCH = 64
"""Masked faces each step of the search builds before it reads their outputs (as shap's ``batch_size``)."""
EXPLAIN_BATCH = 4
"""Masked faces per network call. One fixed size keeps the explainer's own interpreter allocated
once (a new batch shape re-allocates every tensor). On 2 cores an explanation takes as long at
4 as at 8 (1.0-1.2 s each, two runs of each), and the interpreter holds 37 MB instead of 48 MB:
the worker's memory is the budget that binds (``make deploy-check``)."""
BLUR_RADIUS = 4
"""Gaussian blur (input pixels) of the masked-out regions."""
EXPLAINER_NICENESS = 10
"""How much lower the explainer thread's scheduling priority is than the request threads' (Linux ``nice``).

An explanation keeps both cores busy for about half a second. At equal priority, the portrait's
predictions from another client read p50 62-70 ms while explanations ran back to back (idle:
41-44 ms); at niceness 10, 51-52 ms, and at 19 no better (100 predictions each, two runs of
each). Their p95 stayed 1.5-1.6x idle at every niceness: that tail is the explanation
requests' own face detection, which shares the detector's threads. At 10 an explanation still
gets about a tenth of the CPU under a full load of predictions, and both cores when alone.
"""
METHOD = f"Partition SHAP, image partition (hidden regions blurred, radius {BLUR_RADIUS} px), max_evals={MAX_EVALS}"


class ExplanationCancelled(Exception):
    """The explanation's ``cancelled`` event was set: the search stopped at its next batch of masked faces."""


@dataclass
class FaceExplanation:
    """Attribution of one output of one face; ``grid`` is ``(size, size)``, in the output's units."""

    target: str
    output_label: str
    output_value: float
    grid: np.ndarray
    overlay: Image.Image

    def to_dict(self) -> dict:
        buffer = io.BytesIO()
        self.overlay.save(buffer, format="PNG")
        return {
            "target": self.target,
            "explained_output": {"label": self.output_label, "value": round(self.output_value, 4)},
            "method": METHOD,
            "overlay_png": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "grid": np.round(self.grid, 6).tolist(),
        }


def output_function(predictor: Predictor, face: FacePrediction, target: str, cancelled: threading.Event | None = None):
    """The scalar SHAP explains: expected age, or the probability of the predicted class.

    Each call checks ``cancelled`` first: the search calls it once per batch of masked faces, so a
    cancelled explanation stops within one batch (tens of milliseconds) and frees the CPU.
    """
    if target not in predictor.config.outputs:
        raise ValueError(f"target must be one of {', '.join(predictor.config.outputs)}, got {target!r}")
    if target == "age":
        label = "age (years)"

        def scalar(outputs):
            return expected_age(outputs["age"])
    else:
        label = face.label(target)
        index = list(getattr(face, target)).index(label)

        def scalar(outputs):
            return outputs[target][:, index]

    network = predictor.artifacts.explainer_network

    def evaluate(images: np.ndarray) -> np.ndarray:
        if cancelled is not None and cancelled.is_set():
            raise ExplanationCancelled
        (values,) = run_padded(lambda faces: [scalar(network.predict(faces))], images, (EXPLAIN_BATCH,))
        return values

    return evaluate, label


def blurred(pixels: np.ndarray) -> np.ndarray:
    """The face with its detail removed: what the network is shown for a hidden region."""
    return np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(BLUR_RADIUS)))


def attribution_map(evaluate, pixels: np.ndarray, max_evals: int = MAX_EVALS) -> np.ndarray:
    """SHAP values summed over colour channels: ``(size, size)``."""
    return partition_shap_values(evaluate, pixels, blurred(pixels), max_evals, SHAP_BATCH).sum(axis=-1)


def overlay_image(face: Image.Image, grid: np.ndarray, size: int = 200) -> Image.Image:
    """The face in gray with red where a region raised the output and blue where it lowered it."""
    scale = float(np.abs(grid).max()) or 1.0
    signed = np.asarray(Image.fromarray((grid / scale).astype(np.float32), mode="F").resize((size, size), Image.Resampling.BILINEAR))
    base = np.asarray(face.convert("L").resize((size, size)).convert("RGB"), dtype=np.float64)
    colour = np.zeros_like(base)
    colour[..., 0] = np.where(signed > 0, 220, 30)
    colour[..., 2] = np.where(signed > 0, 30, 220)
    colour[..., 1] = 40
    alpha = np.clip(np.abs(signed), 0, 1)[..., None] * 0.75
    return Image.fromarray(np.uint8(base * (1 - alpha) + colour * alpha))


def _lower_priority() -> None:
    """Lower the calling thread's priority by ``EXPLAINER_NICENESS``; threads it starts inherit it.

    On Linux ``setpriority`` with a thread id applies to that thread alone; elsewhere the id is
    not a process id, so nothing is changed.
    """
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + EXPLAINER_NICENESS)


_explainer = ThreadPoolExecutor(1, thread_name_prefix="explainer", initializer=_lower_priority)
"""Where every explanation and the warm-up run, one at a time: a thread of lower priority (``EXPLAINER_NICENESS``).

The explainer's LiteRT interpreter starts its worker threads on its first run, here, so they
inherit the lower priority too. Its thread starts on first use, after gunicorn's fork.
"""
_warm = threading.Event()


def warm_up(predictor: Predictor) -> None:
    """Allocate the explainer's network (its own LiteRT interpreter, batch 4), once per process.

    Serving runs it on a background thread as soon as the process starts serving, so that
    the first explanation does not pay for it.
    """
    size = predictor.config.input_size
    _explainer.submit(predictor.artifacts.explainer_network.predict, np.zeros((EXPLAIN_BATCH, size, size, 3), np.uint8)).result()
    _warm.set()


def explainer_state() -> str:
    """``ready`` once this process has warmed up or explained a face, ``warming up`` before."""
    return "ready" if _warm.is_set() else "warming up"


def explain_face(
    predictor: Predictor, face: FacePrediction, target: str = "gender", max_evals: int = MAX_EVALS, cancelled: threading.Event | None = None
) -> FaceExplanation:
    """Explain one output (``age``, ``gender`` or ``race``) of one predicted face; raises ``ExplanationCancelled`` once ``cancelled`` is set.

    The work runs on the explainer thread, so predictions from other clients go first.
    """
    evaluate, label = output_function(predictor, face, target, cancelled)
    pixels = predictor.face_pixels(face)
    grid = _explainer.submit(attribution_map, evaluate, pixels, max_evals).result()
    value = float(evaluate(pixels[None])[0])
    _warm.set()
    return FaceExplanation(target=target, output_label=label, output_value=value, grid=grid, overlay=overlay_image(face.crop, grid))
