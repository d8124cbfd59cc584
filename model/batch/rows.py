"""The batch table: one row per face, one row with a null ``face`` for a photo without any, one error row per unreadable file."""

from __future__ import annotations

import zipfile
from collections.abc import Callable

from model.config import ModelConfig
from model.decode import ImageError, decode_image
from model.predictor import FacePrediction, Predictor


def probability_column(label: str) -> str:
    """The table's column for one label's probability (``p_male``, ``p_Asian``); every reader of the table names it through this."""
    return f"p_{label}"


def probability_columns(config: ModelConfig) -> list[str]:
    """All probability columns, in the model's own label order: gender's, race's, then the age groups'."""
    return [probability_column(label) for labels in config.labels.values() for label in labels]


def face_row(file: str, index: int, face: FacePrediction) -> dict:
    low, high = face.age_range
    return {
        "file": file,
        "face": index,
        "box": list(face.box),
        "age": face.age,
        "age_low": low,
        "age_high": high,
        **{probability_column(label): probability for label, probability in (*face.gender.items(), *face.race.items(), *face.age_groups.items())},
        "gender": face.label("gender"),
        "race": face.label("race"),
        "detected": face.detected,
    }


def photo_rows(file: str, read: Callable[[], bytes], predictor: Predictor) -> tuple[list[dict], list[FacePrediction]]:
    """The rows of one photo, and its faces. A file that cannot be read or decoded gives an error row with
    the API's message; nothing raises. ``read`` returns the photo's bytes (from disk, an archive or an upload)."""
    try:
        image = decode_image(read())
    except ImageError as error:
        return [{"file": file, "error": str(error)}], []
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:  # missing file, bad archive or member
        return [{"file": file, "error": f"cannot read the file: {error}"}], []
    faces = predictor.predict(image)
    return [face_row(file, index, face) for index, face in enumerate(faces)] or [{"file": file}], faces
