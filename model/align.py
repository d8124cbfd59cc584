"""Warp a detected face into the geometry of the UTKFace crops the model was trained on.

UTKFace's "aligned & cropped" faces put the eyes, nose and mouth at nearly the same place
in every 200x200 image. ``model/shipped/face_template.json`` holds those places (the median
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
    """The face as a UTKFace-style crop (square, template size), ready for ``preprocess``.

    Pillow's affine warp samples the photo at one point per output pixel, with no low-pass
    filter, so a face several times the template's size (a close-up phone photo) would come
    out aliased: hair and skin texture, sensor noise and JPEG blocks folded into coarse
    speckle that no training crop has. Such a face's region is first shrunk by an integer
    factor with a box filter (``Image.reduce``), leaving the warp less than a 2x shrink.
    """
    size = template.size
    forward = np.vstack([similarity_transform(face.landmark_array(), template.landmarks), [0, 0, 1]])
    factor = int(1 / np.hypot(forward[0, 0], forward[1, 0]))  # photo pixels per crop pixel, rounded down
    if factor >= 2:
        image, region = _reduced_region(image, np.linalg.inv(forward), size, factor)
        forward = forward @ region  # reduced pixels -> photo pixels -> crop pixels
    inverse = np.linalg.inv(forward)  # Pillow maps each output pixel back into the photo
    return image.transform((size, size), Image.Transform.AFFINE, tuple(inverse[:2].ravel()), Image.Resampling.BICUBIC)


def _reduced_region(image: Image.Image, inverse: np.ndarray, size: int, factor: int) -> tuple[Image.Image, np.ndarray]:
    """The part of the photo the crop covers, shrunk ``factor`` times, and the matrix from its pixels to the photo's."""
    corners = inverse @ np.array([[0, size, 0, size], [0, 0, size, size], [1, 1, 1, 1]])
    margin = 2 * factor  # the bicubic kernel reaches two pixels beyond a sample
    left, top = (max(0, int(np.floor(corners[axis].min())) - margin) for axis in (0, 1))
    right = min(image.width, int(np.ceil(corners[0].max())) + margin)
    bottom = min(image.height, int(np.ceil(corners[1].max())) + margin)
    region = np.array([[factor, 0, left], [0, factor, top], [0, 0, 1]], dtype=np.float64)
    return image.reduce(factor, box=(left, top, right, bottom)), region
