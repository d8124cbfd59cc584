"""Warp a detected face into the geometry of the UTKFace crops the model was trained on.

UTKFace's "aligned & cropped" faces put the eyes, nose and mouth at nearly the same place
in every 200x200 image. ``model/face_template.json`` holds those places (the median
landmarks that our own detector finds on the training crops, see ``training.face_template``);
a similarity transform (rotation, uniform scale, shift) maps a photo's face onto them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from model.config import MODEL_DIR
from model.detect import LANDMARK_NAMES, DetectedFace


@dataclass(frozen=True)
class FaceTemplate:
    """Where a UTKFace crop of ``size`` pixels puts each landmark: ``(5, 2)`` in ``LANDMARK_NAMES`` order."""

    size: int
    landmarks: np.ndarray

    @classmethod
    def load(cls, path: Path = MODEL_DIR / "face_template.json") -> FaceTemplate:
        template = json.loads(Path(path).read_text())
        return cls(int(template["size"]), np.array([template["landmarks"][name] for name in LANDMARK_NAMES], dtype=np.float64))


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama) taking ``source`` points onto ``target``.

    Returns the 2x3 matrix ``[[a, -b, tx], [b, a, ty]]`` such that ``target ~ M @ [x, y, 1]``.
    """
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centered, target_centered = source - source_mean, target - target_mean
    covariance = target_centered.T @ source_centered / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(singular) @ sign) / source_centered.var(axis=0).sum()
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_face(image: Image.Image, face: DetectedFace, template: FaceTemplate) -> Image.Image:
    """The face as a UTKFace-style crop (square, template size), ready for ``preprocess``."""
    size = template.size
    forward = np.vstack([similarity_transform(face.landmark_array(), template.landmarks), [0, 0, 1]])
    inverse = np.linalg.inv(forward)  # Pillow maps each output pixel back into the photo
    return image.transform((size, size), Image.Transform.AFFINE, tuple(inverse[:2].ravel()), Image.Resampling.BICUBIC)
