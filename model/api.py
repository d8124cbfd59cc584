"""The Python API: every face of a photo in one call, read as the REST API reads it.

>>> import model
>>> faces = model.analyze("tests/fixtures/astronaut.png")
>>> len(faces), faces[0].label("gender")
(1, 'female')
>>> sorted(faces[0].to_dict())  # the REST API's JSON for one face
['age', 'age_groups', 'age_range', 'box', 'detected', 'gender', 'landmarks', 'race', 'score']
>>> model.explain("tests/fixtures/astronaut.png", target="age").target
'age'

``image`` may be a path, the bytes of a file, a PIL image or a ``(height, width, 3)`` uint8
RGB array. Files and bytes are decoded as uploads are (``model.decode.decode_image``: EXIF
orientation, size limits, ``ImageError`` for what cannot be read); images and arrays are taken
as they are. The model loads once per process, on the first call (``get_predictor``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from model.attribution import FaceExplanation, explain_face
from model.decode import decode_image
from model.predictor import FacePrediction, get_predictor

ImageInput = str | os.PathLike | bytes | Image.Image | np.ndarray


def load_image(image: ImageInput) -> Image.Image:
    """The RGB photo the pipeline reads, from any input ``analyze`` takes."""
    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected a (height, width, 3) uint8 RGB array, got {image.dtype} {image.shape}")
        return Image.fromarray(image)
    if isinstance(image, bytes):
        return decode_image(image)
    return decode_image(Path(image).read_bytes())


def analyze(image: ImageInput, *, skip_detection: bool = False) -> list[FacePrediction]:
    """Every face of ``image`` in reading order, each with its age, range, age groups and calibrated gender and race.

    ``skip_detection=True`` reads the whole image as one aligned face crop, as the API's
    ``?skip_detection=true`` does.
    """
    return get_predictor().predict(load_image(image), skip_detection=skip_detection)


def explain(image: ImageInput, face: int = 0, target: str = "gender", *, skip_detection: bool = False) -> FaceExplanation:
    """What raised or lowered one output (``age``, ``gender`` or ``race``) of face number ``face`` (0 first), as ``POST /api/v1/explain`` does."""
    faces = analyze(image, skip_detection=skip_detection)
    if not 0 <= face < len(faces):
        raise IndexError(f"the photo has {len(faces)} face(s); there is no face {face}")
    return explain_face(get_predictor(), faces[face], target)
