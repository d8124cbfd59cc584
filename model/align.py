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


def extend_frame(pixels: np.ndarray, top: int = 0, bottom: int = 0, left: int = 0, right: int = 0) -> np.ndarray:
    """``pixels`` (h, w, 3) grown by repeating its outermost rows and columns: the fill beyond a photo's frame.

    A face cut by the frame must still be read as a face: filled with black, a crop's missing
    side reads as a dark-skinned or shadowed face (a Black man cut by the right edge of a
    group selfie read White at 88%), while repeated edge pixels keep its colour and light.
    Serving fills every crop that reaches past the photo this way (:func:`align_face`) and
    training cuts its faces with the same function (``training.augment.cut_by_frame``), so
    the network learns the very crops it is served.
    """
    if not (top or bottom or left or right):
        return pixels
    return np.pad(pixels, ((top, bottom), (left, right)) + ((0, 0),) * (pixels.ndim - 2), mode="edge")


def align_face(image: Image.Image, face: DetectedFace, template: FaceTemplate) -> Image.Image:
    """The face as a UTKFace-style crop (square, template size), ready for ``preprocess``.

    Only the part of the photo the crop covers is read. Pillow's affine warp samples the photo
    at one point per output pixel, with no low-pass filter, so a face several times the
    template's size (a close-up phone photo) would come out aliased: hair and skin texture,
    sensor noise and JPEG blocks folded into coarse speckle that no training crop has. That
    part is first shrunk by an integer factor with a box filter (``Image.reduce``), leaving the
    warp less than a 2x shrink; where it reaches past the frame it is grown by
    :func:`extend_frame`.
    """
    size = template.size
    forward = np.vstack([similarity_transform(face.landmark_array(), template.landmarks), [0, 0, 1]])
    factor = max(1, int(1 / np.hypot(forward[0, 0], forward[1, 0])))  # photo pixels per crop pixel, rounded down
    region, to_photo = _covered_region(image, np.linalg.inv(forward), size, factor)
    inverse = np.linalg.inv(forward @ to_photo)  # Pillow maps each output pixel back into the region
    return region.transform((size, size), Image.Transform.AFFINE, tuple(inverse[:2].ravel()), Image.Resampling.BICUBIC)


def _covered_region(image: Image.Image, inverse: np.ndarray, size: int, factor: int) -> tuple[Image.Image, np.ndarray]:
    """The part of the photo the crop covers, shrunk ``factor`` times and grown past the frame, and the matrix from its pixels to the photo's."""
    corners = inverse @ np.array([[0, size, 0, size], [0, 0, size, size], [1, 1, 1, 1]])
    margin = 2 * factor  # the bicubic kernel reaches two pixels beyond a sample
    left, top = (int(np.floor(corners[axis].min())) - margin for axis in (0, 1))
    right, bottom = (int(np.ceil(corners[axis].max())) + margin for axis in (0, 1))
    inside_left, inside_top = min(max(0, left), image.width - 1), min(max(0, top), image.height - 1)
    inside_right, inside_bottom = max(min(image.width, right), inside_left + 1), max(min(image.height, bottom), inside_top + 1)
    pixels = np.asarray(image.reduce(factor, box=(inside_left, inside_top, inside_right, inside_bottom)))
    pads = [-(-max(0, gap) // factor) for gap in (inside_top - top, bottom - inside_bottom, inside_left - left, right - inside_right)]
    region = Image.fromarray(extend_frame(pixels, *pads))
    origin_x, origin_y = inside_left - pads[2] * factor, inside_top - pads[0] * factor
    return region, np.array([[factor, 0, origin_x], [0, factor, origin_y], [0, 0, 1]], dtype=np.float64)
