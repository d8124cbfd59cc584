"""Derive the alignment template: where UTKFace crops put the eyes, nose and mouth corners.

Usage: ``python -m training.face_template [--count 3000]``

Runs the serving detector over training crops and writes the median landmark positions
to ``model/shipped/face_template.json``. Serving warps every detected face onto these points, so
a face in a phone photo is framed like the crops the model learnt from.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path

import numpy as np
from PIL import Image

from model.config import MODEL_DIR
from model.detect import LANDMARK_NAMES, FaceDetector
from training.cli import DATASETS
from training.dataset import iter_images, read_split

log = logging.getLogger("training.face_template")


def median_landmarks(crops: list[Image.Image]) -> tuple[np.ndarray, int]:
    """Median ``(5, 2)`` landmarks of the most confident face of each crop, and how many had one."""
    detector, found = FaceDetector(), []
    for crop in crops:
        faces = detector.detect_faces(crop)
        if faces:
            found.append(max(faces, key=lambda face: face.score).landmark_array())
    if not found:
        raise ValueError("no face found in any crop")
    return np.median(np.stack(found), axis=0), len(found)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.face_template", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--count", type=int, default=3000, help="training crops to use")
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "face_template.json")
    args = parser.parse_args(argv)
    split_of = read_split(args.split)
    crops, size = [], None
    for name, data in iter_images(args.data):
        if split_of.get(name) == "train":
            crops.append(Image.open(io.BytesIO(data)).convert("RGB"))
            size = size or crops[0].width
            if len(crops) == args.count:
                break
    landmarks, detected = median_landmarks(crops)
    template = {
        "size": size,
        "landmarks": {name: [round(float(x), 2), round(float(y), 2)] for name, (x, y) in zip(LANDMARK_NAMES, landmarks, strict=True)},
        "method": f"median of the landmarks our RetinaFace (model/shipped/detector) finds on the first {len(crops)} train-split UTKFace crops in archive order",
        "crops": len(crops),
        "faces_found": detected,
    }
    args.out.write_text(json.dumps(template, indent=2) + "\n")
    log.info("face found in %d of %d crops (%.1f%%); template written to %s", detected, len(crops), 100 * detected / len(crops), args.out)
    return template


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
