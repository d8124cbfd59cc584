"""Test-time views: the looks at one face whose outputs the model averages.

Training shows the network mirrored faces and random zooms into the crop (scale 0.85..1,
see ``training.augment``), so a face seen at the training's average zoom, and the mirror
image of each view, are all pictures it knows. Averaging their outputs is a free ensemble:
on the validation split it cut the error of every single network's heads. The shipped model,
already an average of two networks, is served without them to keep explanations under 2 s
(figures in docs/model.md).
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def zoom(faces: np.ndarray, scale: float) -> np.ndarray:
    """The centred ``scale`` of each face, resized back to full size (bilinear, as in training)."""
    if not 0 < scale <= 1:
        raise ValueError(f"zoom scale must be in (0, 1], got {scale}")
    if scale == 1:
        return faces
    size = faces.shape[1]
    margin = size * (1 - scale) / 2
    box = (margin, margin, size - margin, size - margin)
    return np.stack([np.asarray(Image.fromarray(face).resize((size, size), Image.Resampling.BILINEAR, box=box)) for face in faces])


def views_of(faces: np.ndarray, zooms: tuple[float, ...], mirror: bool = True) -> np.ndarray:
    """One batch holding every zoom of the faces and, with ``mirror``, the mirror image of each, view after view."""
    views = [zoom(faces, scale) for scale in zooms]
    return np.concatenate([*views, *(view[:, :, ::-1] for view in views if mirror)])


def average_views(outputs: np.ndarray, count: int) -> np.ndarray:
    """Per face, the mean over the views of a ``views_of`` batch's outputs."""
    return outputs.reshape(-1, count, *outputs.shape[1:]).mean(axis=0)
