"""The batch table: one row per face, one row with a null ``face`` for a photo without any, one error row per unreadable file."""

from __future__ import annotations

import pyarrow as pa

from model.batch.inputs import Item
from model.config import ModelConfig
from model.decode import ImageError, decode_image
from model.predictor import FacePrediction, Predictor


def schema(config: ModelConfig) -> pa.Schema:
    """Column names and types; the probability columns follow the model's own label order."""
    return pa.schema(
        [
            ("file", pa.string()),
            ("face", pa.int32()),
            ("box", pa.list_(pa.float64(), 4)),
            ("age", pa.float64()),
            ("age_low", pa.int32()),
            ("age_high", pa.int32()),
            *((f"p_{label}", pa.float64()) for label in (*config.genders, *config.races)),
            ("gender", pa.string()),
            ("race", pa.string()),
            ("detected", pa.bool_()),
            ("error", pa.string()),
        ]
    )


def face_row(file: str, index: int, face: FacePrediction) -> dict:
    low, high = face.age_range
    return {
        "file": file,
        "face": index,
        "box": list(face.box),
        "age": face.age,
        "age_low": low,
        "age_high": high,
        **{f"p_{label}": probability for label, probability in (*face.gender.items(), *face.race.items())},
        "gender": face.label("gender"),
        "race": face.label("race"),
        "detected": face.detected,
    }


def predict_item(item: Item, predictor: Predictor) -> list[dict]:
    """The rows of one photo. A file that cannot be read or decoded gives an error row with the API's message; nothing raises."""
    try:
        image = decode_image(item.read())
    except ImageError as error:
        return [{"file": item.file, "error": str(error)}]
    except (OSError, KeyError, ValueError) as error:  # missing file, bad archive member, unreadable archive
        return [{"file": item.file, "error": f"cannot read the file: {error}"}]
    faces = predictor.predict(image)
    return [face_row(item.file, index, face) for index, face in enumerate(faces)] or [{"file": item.file}]
