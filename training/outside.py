"""Labelled photos from other sources, read through the serving pipeline: the check UTKFace's val cannot give.

Usage: ``python -m training.outside [--model-dir model/shipped] [--outside PATH]``

UTKFace's crops share one look (one alignment, one era of web photos, few children), so a
recipe chosen on its val split can fit that look and read real uploads worse. Two sets from
elsewhere judge every recipe beside val:

- ``lag/``: web photos of people as children (``young``) and as adults, with gender
  (Large Age-Gap, tight 100 px crops, many old scans). Split by identity (:func:`lag_part`):
  the ``train`` identities may be trained on, the ``held_out`` ones are only ever measured;
- ``frl/``: studio portraits with age, gender and race (Face Research Lab London and Canada).

Every photo is decoded, detected and aligned as the API does (``Predictor.face_crops``; the
largest face, or the whole crop where none is found), once, and cached. Writes
``outside.json`` beside the network and prints a Markdown table.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from model.config import ModelConfig
from model.decode import decode_image
from model.predictor import Predictor
from model.preprocess import preprocess
from model.runtime import load_network
from training.cli import DATASETS, artifact_parser
from training.contract import GENDERS, RACES
from training.dataset import FIELDS, SplitArrays
from training.evaluate import predict_arrays
from training.metrics import reliability

log = logging.getLogger("training.outside")
OUTSIDE = DATASETS / "outside"
LAG_TRAIN_SHARE = 0.6
"""Share of LAG's identities that training may use; the rest are held out for validation."""
SETS = ("lag young, held-out", "lag adult, held-out", "frl")
"""The subsets reported, each on its own: they are small and unlike each other."""


@dataclass
class OutsideSet:
    """One subset's faces as the network reads them, labels where known (age NaN, race -1 where not)."""

    arrays: SplitArrays
    detected: np.ndarray
    """True where the face was found by detection; False where the photo was read whole as a crop."""


def lag_part(identity: str) -> str:
    """``train`` or ``held_out``: a fixed function of the identity, so a person's young and adult photos fall together."""
    bucket = int(hashlib.sha256(identity.encode()).hexdigest(), 16) % 1000
    return "train" if bucket < LAG_TRAIN_SHARE * 1000 else "held_out"


def read_labels(root: Path = OUTSIDE) -> dict[str, pd.DataFrame]:
    """Each subset's labels (``file`` relative to its folder, ``gender``, ``race``, ``age``), LAG's train identities as ``lag train``."""
    lag = pd.read_csv(root / "lag" / "labels.csv").assign(race=None, age=np.nan)
    lag["file"] = "lag/" + lag["file"]
    lag["part"] = lag["identity"].map(lag_part)
    frl = pd.read_csv(root / "frl" / "labels.csv")
    frl["file"] = "frl/" + frl["file"]
    held_out = lag[lag["part"] == "held_out"]
    return {
        "lag train": lag[lag["part"] == "train"],
        "lag young, held-out": held_out[held_out["group"] == "young"],
        "lag adult, held-out": held_out[held_out["group"] == "adult"],
        "frl": frl,
    }


def largest_face_pixels(predictor: Predictor, photo: Image.Image, size: int) -> tuple[np.ndarray, bool]:
    """The network input (``size`` px) of the photo's largest face as serving aligns it, and whether one was found; the whole photo where none was."""
    faces = predictor.artifacts.detector.detect_faces(photo)
    largest = [max(faces, key=lambda face: face.box[2] * face.box[3])] if faces else []
    (crop,) = predictor.face_crops(photo, largest, skip_detection=True)
    return preprocess(crop, size), bool(faces)


def read_faces(table: pd.DataFrame, root: Path, predictor: Predictor, size: int) -> OutsideSet:
    """Each photo's largest face, decoded, detected, aligned and preprocessed (to ``size`` px) as serving does."""
    images, detected = [], []
    for file in table["file"]:
        pixels, found = largest_face_pixels(predictor, decode_image((root / file).read_bytes()), size)
        images.append(pixels)
        detected.append(found)
    race = np.array([RACES.index(name) if isinstance(name, str) else -1 for name in table["race"]], np.int32)
    arrays = SplitArrays(
        files=table["file"].to_numpy(str),
        images=np.stack(images),
        age=table["age"].to_numpy(np.float32),
        gender=np.array([GENDERS.index(name) for name in table["gender"]], np.int32),
        race=race,
    )
    return OutsideSet(arrays, np.array(detected))


def load_outside(predictor: Predictor, size: int, root: Path = OUTSIDE, cache: Path | None = Path(".cache")) -> dict[str, OutsideSet]:
    """Every subset of :func:`read_labels` read by :func:`read_faces`, memoised in one ``.npz``."""
    if not (root / "lag" / "labels.csv").exists():
        raise FileNotFoundError(f"{root} does not hold lag/labels.csv and frl/labels.csv: pass the folder of the outside sets")
    path = None if cache is None else Path(cache) / f"outside-{size}.npz"
    if path is not None and path.exists():
        with np.load(path) as stored:
            names = json.loads(str(stored["names"]))
            return {name: OutsideSet(SplitArrays(*(stored[f"{name}/{field}"] for field in FIELDS)), stored[f"{name}/detected"]) for name in names}
    sets = {name: read_faces(table, root, predictor, size) for name, table in read_labels(root).items()}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"{name}/{field}": getattr(part.arrays, field) for name, part in sets.items() for field in FIELDS}
        np.savez(path, names=json.dumps(list(sets)), **arrays, **{f"{name}/detected": part.detected for name, part in sets.items()})
    return sets


def outside_metrics(outputs: dict[str, np.ndarray], part: OutsideSet) -> dict:
    """What one subset says of a network's (calibrated) ``outputs``: accuracy and ECE per labelled head, "Others" recall, age MAE."""
    arrays = part.arrays
    report: dict = {"n_images": len(arrays), "faces_detected": round(float(part.detected.mean()), 4)}
    report["gender_accuracy"] = round(float((outputs["gender"].argmax(1) == arrays.gender).mean()), 4)
    report["gender_ece"] = reliability(outputs["gender"], arrays.gender)["ece"]
    known = arrays.race >= 0
    if known.any():
        race, labels = outputs["race"][known], arrays.race[known]
        report["race_accuracy"] = round(float((race.argmax(1) == labels).mean()), 4)
        report["race_ece"] = reliability(race, labels)["ece"]
        others = labels == RACES.index("Others")
        report["others_recall"] = round(float((race[others].argmax(1) == labels[others]).mean()), 4) if others.any() else None
    aged = ~np.isnan(arrays.age)
    if aged.any():
        years = np.arange(outputs["age"].shape[1])
        report["age_mae"] = round(float(np.abs(outputs["age"][aged] @ years - arrays.age[aged]).mean()), 4)
    return report


def markdown_table(reports: dict[str, dict]) -> str:
    """One row per subset; a dash where the subset has no such label."""

    def cell(row: dict, key: str, percent: bool = True) -> str:
        value = row.get(key)
        return "-" if value is None else (f"{value:.1%}" if percent else f"{value:.3f}" if key.endswith("ece") else f"{value:.2f}")

    lines = ["| set | faces | gender | gender ECE | race | race ECE | Others recall | age MAE |", "|---|---|---|---|---|---|---|---|"]
    for name, row in reports.items():
        keys = (
            ("gender_accuracy", True),
            ("gender_ece", False),
            ("race_accuracy", True),
            ("race_ece", False),
            ("others_recall", True),
            ("age_mae", False),
        )
        lines.append(f"| {name} | {row['n_images']} | " + " | ".join(cell(row, key, percent) for key, percent in keys) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = artifact_parser("python -m training.outside", __doc__)
    parser.add_argument("--outside", type=Path, default=OUTSIDE, help="the folder holding lag/ and frl/")
    args = parser.parse_args(argv)
    config = ModelConfig.from_file(args.model_dir / "config.json")
    sets = load_outside(Predictor(), config.input_size, args.outside, args.cache)
    network = load_network(args.model_dir, config)
    reports = {name: outside_metrics(predict_arrays(network, sets[name].arrays), sets[name]) for name in SETS}
    (args.model_dir / "outside.json").write_text(json.dumps({"lag_train_share": LAG_TRAIN_SHARE, "sets": reports}, indent=2) + "\n")
    print(markdown_table(reports))
    return reports


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
