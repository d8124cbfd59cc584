"""Which parts of the face drove a prediction: SHAP attributions over the aligned face.

SHAP's Partition explainer with an Image masker is model-agnostic: it only calls the LiteRT
prediction function, so explanations need no TensorFlow. Hidden regions are replaced by a
blurred copy of the same face (computed with Pillow) rather than by black, so a masked face
still looks like a face, just without detail, and the map shows where *detail* mattered.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import threading
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageFilter

from model.age import expected_age
from model.labels import OUTPUTS
from model.predictor import FacePrediction, Predictor
from model.runtime import run_padded
from model.shap_without_numba import import_shap, partition_tree

MAX_EVALS = 250
"""Model evaluations per explanation, chosen by measurement (see ``benchmarks/explain.py``)."""
SHAP_BATCH = 64
"""Masked faces SHAP builds at a time (float64, 600 KB each). All 500 at once peaked the process at
1.4 GB; 64 peaks at 0.75 GB and runs no slower (``benchmarks/explain.py`` measures the time)."""
EXPLAIN_BATCH = 8
"""Masked faces per network call. One fixed size keeps the explainer's own interpreter allocated
once (a new batch shape re-allocates every tensor), and 8 runs as fast per face as 64 in a
tenth of the memory (``benchmarks/explain.py``)."""
BLUR_RADIUS = 4
"""Gaussian blur (input pixels) of the masked-out regions."""
METHOD = f"SHAP Partition explainer, Image masker (hidden regions blurred, radius {BLUR_RADIUS} px), max_evals={MAX_EVALS}"


def explanations_available() -> bool:
    """Whether the optional ``shap`` package (requirements-explain.txt) is installed."""
    return importlib.util.find_spec("shap") is not None


class ExplanationCancelled(Exception):
    """The explanation's ``cancelled`` event was set: SHAP stopped at its next batch of masked faces."""


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

    Each call checks ``cancelled`` first: SHAP calls it once per batch of masked faces, so a
    cancelled explanation stops within one batch (tens of milliseconds) and frees the CPU.
    """
    if target not in OUTPUTS:
        raise ValueError(f"target must be one of {', '.join(OUTPUTS)}, got {target!r}")
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
        batch = np.clip(np.round(images), 0, 255).astype(np.uint8)
        (values,) = run_padded(lambda faces: [scalar(network.predict(faces))], batch, (EXPLAIN_BATCH,))
        return values

    return evaluate, label


def blurred(pixels: np.ndarray) -> np.ndarray:
    """The face with its detail removed: what SHAP shows the model for a hidden region."""
    return np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(BLUR_RADIUS)), dtype=np.float64)


@cache
def _masker_class() -> type:
    """shap's Image masker, reusing one partition tree per shape (shap is imported here, on first use)."""
    shap = import_shap()

    class BlurredImage(shap.maskers.Image):
        def build_partition_tree(self) -> None:
            self.clustering = partition_tree(tuple(self.input_shape))

    return BlurredImage


def attribution_map(evaluate, pixels: np.ndarray, max_evals: int = MAX_EVALS) -> np.ndarray:
    """SHAP values summed over colour channels: ``(size, size)``."""
    shap = import_shap()
    masker = _masker_class()(blurred(pixels), pixels.shape)
    explainer = shap.Explainer(evaluate, masker, algorithm="partition")
    values = explainer(pixels[None].astype(np.float64), max_evals=max_evals, batch_size=SHAP_BATCH, silent=True).values
    return np.asarray(values)[0].sum(axis=-1)


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


_warm = threading.Event()


def warm_up(predictor: Predictor) -> None:
    """Import shap, build the partition tree for this model's faces and allocate the explainer's network: about 2 s, once per process.

    Serving runs it on a background thread as soon as the process starts serving, so that
    neither the first prediction nor, usually, the first explanation waits for it.
    """
    size = predictor.config.input_size
    _masker_class()
    partition_tree((size, size, 3))
    predictor.artifacts.explainer_network.predict(np.zeros((EXPLAIN_BATCH, size, size, 3), np.uint8))
    _warm.set()


def explainer_state() -> str:
    """``ready`` once this process has warmed up or explained a face, ``warming up`` before, ``unavailable`` without shap."""
    if not explanations_available():
        return "unavailable"
    return "ready" if _warm.is_set() else "warming up"


def explain_face(
    predictor: Predictor, face: FacePrediction, target: str = "gender", max_evals: int = MAX_EVALS, cancelled: threading.Event | None = None
) -> FaceExplanation:
    """Explain one output (``age``, ``gender`` or ``race``) of one predicted face; raises ``ExplanationCancelled`` once ``cancelled`` is set."""
    evaluate, label = output_function(predictor, face, target, cancelled)
    pixels = predictor.face_pixels(face)
    grid = attribution_map(evaluate, pixels, max_evals)
    value = float(evaluate(pixels[None].astype(np.float64))[0])
    _warm.set()
    return FaceExplanation(target=target, output_label=label, output_value=value, grid=grid, overlay=overlay_image(face.crop, grid))
