"""Photo in, one prediction per face out: the object behind the CLI, the API and the dashboard.

``Predictor`` chains decode -> detect -> align -> preprocess -> network; it is built once per
process (``get_predictor``) and is safe to share between threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from model.age import age_groups, age_interval, expected_age
from model.align import align_face
from model.artifacts import load_artifacts
from model.config import MODEL_DIR, ModelConfig
from model.decode import photo_scale
from model.detect import DetectedFace
from model.preprocess import preprocess

FALLBACK_MAX_SIDE = 400
"""A photo with no detected face is treated as an already aligned crop when it is at most this big..."""
FALLBACK_MAX_ASPECT = 1.25
"""...and roughly square (long side / short side at most this), like a UTKFace file uploaded as is."""


@dataclass
class FacePrediction:
    """What the model says about one face; ``box`` is ``(x, y, w, h)`` in photo pixels."""

    box: tuple[float, float, float, float]
    score: float | None
    landmarks: dict[str, tuple[float, float]]
    age: float
    age_range: tuple[int, int]
    age_groups: dict[str, float]
    age_distribution: np.ndarray = field(repr=False)
    gender: dict[str, float]
    race: dict[str, float]
    detected: bool
    """True when the face was found by detection and aligned; False when the whole image was read as one face."""
    crop: Image.Image = field(repr=False)

    def label(self, head: str) -> str:
        """The most probable class of ``head`` (``"gender"`` or ``"race"``)."""
        probabilities = getattr(self, head)
        return max(probabilities, key=probabilities.get)

    def to_dict(self) -> dict:
        """The JSON form used by the API and the CLI."""
        return {
            "box": [round(value, 1) for value in self.box],
            "score": None if self.score is None else round(self.score, 4),
            "landmarks": {name: list(point) for name, point in self.landmarks.items()},
            "age": round(self.age, 1),
            "age_range": list(self.age_range),
            "age_groups": {name: round(value, 4) for name, value in self.age_groups.items()},
            "gender": {"label": self.label("gender"), "probabilities": {k: round(v, 4) for k, v in self.gender.items()}},
            "race": {"label": self.label("race"), "probabilities": {k: round(v, 4) for k, v in self.race.items()}},
            "detected": self.detected,
        }


class Predictor:
    """The shipped model with its face pipeline; load once, call from any thread."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 2) -> None:
        self.artifacts = load_artifacts(model_dir, threads)
        self.config: ModelConfig = self.artifacts.config
        self.network = self.artifacts.network

    def predict(self, image: Image.Image, skip_detection: bool = False, timings: dict[str, float] | None = None) -> list[FacePrediction]:
        """Every face of an RGB photo, in reading order (``model.detect.reading_order``).

        ``skip_detection=True`` takes the whole image as one UTKFace-style crop, for faces
        already cropped. Without it, a small square photo in which no face is found is taken
        whole as well. Either way such a prediction says ``detected: False``. ``timings`` receives milliseconds per step.
        """
        timings = {} if timings is None else timings
        started = time.perf_counter()
        faces = [] if skip_detection else self.artifacts.detector.detect_faces(image)
        timings["detect_ms"] = round(1000 * (time.perf_counter() - started), 1)
        started = time.perf_counter()
        crops = self.face_crops(image, faces, skip_detection)
        if not crops:
            return []
        batch = np.stack([preprocess(crop, self.config.input_size) for crop in crops])  # as face_pixels()
        timings["align_ms"] = round(1000 * (time.perf_counter() - started), 1)
        started = time.perf_counter()
        outputs = self._read_faces(batch)
        timings["predict_ms"] = round(1000 * (time.perf_counter() - started), 1)
        whole = DetectedFace(box=(0.0, 0.0, float(image.width), float(image.height)), score=None, landmarks={})
        scale = photo_scale(image)  # boxes in the photo's own pixels, however it was decoded
        return [
            self._face(face.scaled(scale), crop, outputs, index, detected=bool(faces))
            for index, (face, crop) in enumerate(zip(faces or [whole], crops, strict=True))
        ]

    def face_crops(self, image: Image.Image, faces: list[DetectedFace], skip_detection: bool = False) -> list[Image.Image]:
        """The aligned crop of each detected face; with none, the whole image when it is (or is said to be) a face crop, else nothing.

        Training reads photos from other sources through this too (``training.outside``), so
        they are judged on the very crops users get.
        """
        if faces:
            return [align_face(image, face, self.artifacts.template) for face in faces]
        return [image] if skip_detection or _looks_like_a_crop(image) else []

    def _read_faces(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """The network's outputs for each face, one face per call.

        LiteRT keeps the memory of the largest batch an interpreter has run: a photo of 30
        faces read as one batch would hold 80 MB more than batch 1 for the rest of the process
        (measured). One face at a time keeps the network at batch 1, never re-allocated, for
        under 1 ms more per face (4.3 ms against 3.6 in a batch of 7).
        """
        outputs = [self.network.predict(face[None]) for face in batch]
        return {name: np.concatenate([output[name] for output in outputs]) for name in outputs[0]}

    def face_pixels(self, face: FacePrediction) -> np.ndarray:
        """The network input of a predicted face: its aligned crop, preprocessed."""
        return preprocess(face.crop, self.config.input_size)

    def _face(self, face: DetectedFace, crop: Image.Image, outputs: dict[str, np.ndarray], index: int, detected: bool) -> FacePrediction:
        distribution = outputs["age"][index]
        return FacePrediction(
            box=face.box,
            score=face.score,
            landmarks=face.landmarks,
            age=float(expected_age(distribution[None])[0]),
            age_range=age_interval(distribution),
            age_groups=age_groups(distribution, self.config.age_groups),
            age_distribution=distribution,
            gender=dict(zip(self.config.genders, map(float, outputs["gender"][index]), strict=True)),
            race=dict(zip(self.config.races, map(float, outputs["race"][index]), strict=True)),
            detected=detected,
            crop=crop,
        )


def _looks_like_a_crop(image: Image.Image) -> bool:
    long_side, short_side = max(image.size), min(image.size)
    return long_side <= FALLBACK_MAX_SIDE and long_side / short_side <= FALLBACK_MAX_ASPECT


def get_predictor(model_dir: Path = MODEL_DIR, threads: int = 2) -> Predictor:
    """The process-wide predictor of ``model_dir``, loaded on first use: one per folder and thread count, however the folder is spelt."""
    return _predictor(Path(model_dir).resolve(), threads)


@cache
def _predictor(model_dir: Path, threads: int) -> Predictor:
    return Predictor(model_dir, threads)
