"""How the shipped model holds up on the photos people really upload, measured on val.

Usage: ``python -m training.robustness [--model-dir model]``

Two checks, both on val faces:

- **crops**: each validation crop is degraded (grayscale, blur, darkening, heavy JPEG
  compression) before the shared preprocessing, and the figures are compared with the clean ones;
- **photos**: each face is put back into a photo the way people take them: shrunk or enlarged,
  tilted and placed off-centre on a larger background, re-lit (brightness, contrast, a colour
  cast) and recompressed as JPEG. ``Predictor`` then reads the whole photo, detection and
  alignment included, and the figures are compared with the same faces read as clean crops;
  each face once more as a close-up, several times the crop's size, with sensor noise; and
  each face cut by the left or right edge of the frame, 25% and 40% of it outside, beside the
  same face whole in the same photo.

Writes ``model/shipped/robustness.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from model.config import ModelConfig
from model.predictor import FacePrediction, Predictor
from model.runtime import load_network
from training.cli import artifact_parser
from training.dataset import FaceLabel, iter_images, load_splits, parse_name, read_split
from training.evaluate import evaluate_arrays


def _jpeg(image: Image.Image, quality: int = 15) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


CORRUPTIONS: dict[str, Callable[[Image.Image], Image.Image] | None] = {
    "clean": None,
    "grayscale": lambda image: ImageOps.grayscale(image).convert("RGB"),
    "blur (Gaussian, radius 2 px of 200)": lambda image: image.convert("RGB").filter(ImageFilter.GaussianBlur(2)),
    "dark (brightness x0.4)": lambda image: ImageEnhance.Brightness(image.convert("RGB")).enhance(0.4),
    "JPEG quality 15": _jpeg,
}


def _background(rng: np.random.Generator) -> Image.Image:
    """A 640x480 backdrop: a soft gradient between two random colours, with grain."""
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    gradient = np.linspace(0, 1, 480)[:, None, None]
    background = (1 - gradient) * top + gradient * bottom + rng.normal(0, 8, (480, 640, 3))
    return Image.fromarray(np.clip(background, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2))


def _relit(photo: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Brightness, contrast and a colour cast as cameras vary them, then JPEG at a web photo's quality."""
    photo = ImageEnhance.Brightness(photo).enhance(rng.uniform(0.55, 1.35))
    photo = ImageEnhance.Contrast(photo).enhance(rng.uniform(0.7, 1.3))
    cast = np.asarray(photo, np.float32) * rng.uniform(0.85, 1.15, 3)
    return _jpeg(Image.fromarray(np.clip(cast, 0, 255).astype(np.uint8)), quality=int(rng.integers(35, 85)))


def as_photo(face: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A UTKFace crop put back into a 640x480 photo: re-framed, tilted, re-lit and recompressed."""
    side = int(rng.uniform(110, 300))
    crop = face.convert("RGBA").resize((side, side), Image.Resampling.BICUBIC).rotate(rng.uniform(-12, 12), Image.Resampling.BICUBIC, expand=True)
    photo = _background(rng)
    photo.paste(crop, (int(rng.integers(0, 640 - crop.width)), int(rng.integers(0, 480 - crop.height))), crop)  # transparent corners
    return _relit(photo, rng)


CUT_SHARES = (0.25, 0.4)
"""Shares of the face's width beyond the frame in the cut-face check."""


def as_cut_photo(face: Image.Image, box: tuple[float, float, float, float], share: float, rng: np.random.Generator) -> Image.Image:
    """A UTKFace crop in a 640x480 photo with ``share`` of its face ``box`` (crop pixels) beyond the left or right edge.

    ``share`` 0 places the same face whole inside the frame; an ``rng`` seeded alike gives the
    same size, backdrop and light, so the cut and whole photos differ only by the frame.
    """
    side = int(rng.uniform(160, 260))
    scale = side / face.width
    left, width = box[0] * scale, box[2] * scale
    photo = _background(rng)
    top, to_the_left, inside = int(rng.integers(0, 480 - side)), rng.random() < 0.5, int(rng.integers(0, 640 - side))
    beyond_left, beyond_right = round(-(left + share * width)), round(640 - (left + (1 - share) * width))
    x = inside if share == 0 else beyond_left if to_the_left else beyond_right
    photo.paste(face.resize((side, side), Image.Resampling.BICUBIC), (x, top))
    return _relit(photo, rng)


def as_close_up(face: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A UTKFace crop as a phone close-up: enlarged to 450-800 px in a 1280x960 photo, with sensor noise, JPEG quality 90.

    The enlarged face is smooth, so the noise (sigma 4-12 grey levels, every pixel) stands for
    the fine detail a real close-up holds: what alignment must shrink away, not fold into the crop.
    """
    side = int(rng.uniform(450, 800))
    photo = Image.new("RGB", (1280, 960), tuple(int(value) for value in rng.integers(0, 256, 3)))
    photo.paste(face.resize((side, side), Image.Resampling.LANCZOS), (int(rng.integers(0, 1280 - side)), int(rng.integers(0, 960 - side))))
    noisy = np.asarray(photo, np.float32) + rng.normal(0, rng.uniform(4, 12), (960, 1280, 3))
    return _jpeg(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)), quality=90)


def _summary(predictions: list[FacePrediction | None], labels: list[FaceLabel]) -> dict:
    """Figures over all faces (a face not found counts as wrong and is left out of the MAE), and over the faces found."""
    found = [(prediction, label) for prediction, label in zip(predictions, labels, strict=True) if prediction is not None]
    gender_right = sum(p.label("gender") == list(p.gender)[label.gender] for p, label in found)
    race_right = sum(p.label("race") == list(p.race)[label.race] for p, label in found)
    return {
        "n_images": len(labels),
        "faces_found": round(len(found) / len(labels), 4),
        "age_mae": round(float(np.mean([abs(p.age - label.age) for p, label in found])), 4),
        "gender_accuracy": round(gender_right / len(labels), 4),
        "race_accuracy": round(race_right / len(labels), 4),
        "gender_accuracy_of_found": round(gender_right / max(1, len(found)), 4),
        "race_accuracy_of_found": round(race_right / max(1, len(found)), 4),
    }


def photo_check(args: argparse.Namespace, count: int, seed: int = 7) -> dict:
    """``count`` val faces, spread over the split, as clean crops and as whole photos through ``Predictor``.

    The archive lists faces by age, so every n-th val face is taken rather than the first ones.
    A face not found counts as wrong.
    """
    predictor = Predictor(args.model_dir)
    split_of = read_split(args.split)
    step = max(1, int((split_of == "val").sum()) // count)
    rng, close_up_rng, cut_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
    labels, crops, photos, close_ups, seen = [], [], [], [], 0
    framed: dict[float, list] = {share: [] for share in (0.0, *CUT_SHARES)}
    for name, data in iter_images(args.data):
        if split_of.get(name) != "val":
            continue
        seen += 1
        if (seen - 1) % step:
            continue
        face = Image.open(io.BytesIO(data)).convert("RGB")
        labels.append(parse_name(name))
        crops.append(predictor.predict(face, skip_detection=True)[0])
        photos.append(_largest_face(predictor.predict(as_photo(face, rng))))
        close_ups.append(_largest_face(predictor.predict(as_close_up(face, close_up_rng))))
        box = _face_box(predictor, face)
        scene = int(cut_rng.integers(2**32))
        for share, predictions in framed.items():
            predictions.append(_largest_face(predictor.predict(as_cut_photo(face, box, share, np.random.default_rng(scene)))))
        if len(labels) == count:
            break
    return {
        "clean crops": _summary(crops, labels),
        "whole photos (re-framed, re-lit, JPEG)": _summary(photos, labels),
        "close-ups (face 450-800 px, sensor noise, JPEG)": _summary(close_ups, labels),
        **{_framed_name(share): _summary(predictions, labels) for share, predictions in framed.items()},
    }


def _framed_name(share: float) -> str:
    return "whole, as the cut ones are framed" if share == 0 else f"cut by the frame, {share:.0%} of the face outside"


def _face_box(predictor: Predictor, face: Image.Image) -> tuple[float, float, float, float]:
    """Where the detector puts the face in a UTKFace crop; the crop's middle 60% where it finds none."""
    found = predictor.artifacts.detector.detect_faces(face)
    return (
        max(found, key=lambda detected: detected.box[2] * detected.box[3]).box
        if found
        else (0.2 * face.width, 0.2 * face.height, 0.6 * face.width, 0.6 * face.height)
    )


def _largest_face(found: list[FacePrediction]) -> FacePrediction | None:
    return max(found, key=lambda face: face.box[2] * face.box[3]) if found else None


def main(argv: list[str] | None = None) -> dict:
    parser = artifact_parser("python -m training.robustness", __doc__)
    parser.add_argument("--photos", type=int, default=600, help="val faces to put back into whole photos")
    args = parser.parse_args(argv)
    config = ModelConfig.from_file(args.model_dir / "config.json")
    network = load_network(args.model_dir, config)
    results = {}
    for name, corrupt in CORRUPTIONS.items():
        val = load_splits(args.data, args.split, config.input_size, splits=("val",), corrupt=corrupt)["val"]
        metrics = evaluate_arrays(network, config, val)
        results[name] = {key: metrics[key] for key in ("n_images", "age_mae", "gender_accuracy", "race_accuracy")}
    photos = photo_check(args, args.photos)
    (args.model_dir / "robustness.json").write_text(json.dumps({"split": "val", "results": results, "photos": photos}, indent=2) + "\n")
    clean = results["clean"]
    print("| validation faces | age MAE (years) | gender accuracy | race accuracy |\n|---|---|---|---|")
    for name, row in results.items():
        delta = "" if name == "clean" else f" ({row['gender_accuracy'] - clean['gender_accuracy']:+.1%})"
        print(f"| {name} | {row['age_mae']:.2f} | {row['gender_accuracy']:.1%}{delta} | {row['race_accuracy']:.1%} |")
    print(
        f"\n| {args.photos} val faces | faces found | age MAE (years) | gender accuracy (of found) | race accuracy (of found) |\n|---|---|---|---|---|"
    )
    for name, row in photos.items():
        gender, race = (f"{row[f'{head}_accuracy']:.1%} ({row[f'{head}_accuracy_of_found']:.1%})" for head in ("gender", "race"))
        print(f"| {name} | {row['faces_found']:.1%} | {row['age_mae']:.2f} | {gender} | {race} |")
    return {**results, **photos}


if __name__ == "__main__":
    main()
