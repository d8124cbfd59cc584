"""Fit each classification head's temperatures, one per predicted age group, and measure calibration.

Usage: ``python -m training.calibrate [--model-dir model]``

One temperature per head, fitted on UTKFace's crops, promised too much on photos from
elsewhere (it said 91% and was right 83.5% of the time), most of all on children's gender, and
too little on adults'. The fit pools val's crops with the same faces put back into photos and
read through detection and alignment (``training.robustness.as_photo``: re-framed, tilted,
re-lit, recompressed), and fits one temperature per age group that the network predicts for the
face (``model.calibration.Calibration``); ``training.outside`` measures what that gives on
photos from other sources.

Writes the temperatures into ``config.json`` (``calibration``), where serving reads them, and
``val_outputs.npz``: val's served probabilities of gender, race and age group with the true
labels, which the batch summary's adjusted shares are fitted on (``model.batch.quantify``).
Each fit minimises the negative log-likelihood of its faces' labels over one scalar;
the expected calibration error (ECE) is measured with 15 equal-width confidence bins.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.optimize import minimize_scalar

from model.age import expected_age, group_of
from model.calibration import Calibration, temper
from model.config import ModelConfig
from model.predictor import Predictor
from model.runtime import load_network
from training.cli import artifact_parser
from training.dataset import SplitArrays, load_splits_cached
from training.evaluate import classified_heads, predict_arrays
from training.metrics import CALIBRATION_METHOD, calibration_report
from training.outside import largest_face_pixels
from training.robustness import as_photo

log = logging.getLogger("training.calibrate")
MIN_GROUP_FACES = 50
"""The fewest faces an age group's own temperature is fitted on (val holds 111 to 760 per group)."""


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the val labels' negative log-likelihood."""
    result = minimize_scalar(
        lambda log_temperature: negative_log_likelihood(temper(probabilities, float(np.exp(log_temperature))), labels),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


def fit_temperatures(
    raw: dict[str, np.ndarray], labels: dict[str, np.ndarray], age_groups: tuple[tuple[str, int, int], ...]
) -> dict[str, dict[str, float]]:
    """Per head of ``labels``, a temperature for each age group the network predicts, fitted on that group's faces.

    A group with fewer than ``MIN_GROUP_FACES`` faces takes the head's temperature fitted on every face.
    """
    groups = group_of(expected_age(raw["age"]), age_groups)
    temperatures = {}
    for head, truth in labels.items():
        overall = fit_temperature(raw[head], truth)
        temperatures[head] = {
            label: round(
                fit_temperature(raw[head][groups == index], truth[groups == index]) if (groups == index).sum() >= MIN_GROUP_FACES else overall, 4
            )
            for index, (label, _, _) in enumerate(age_groups)
        }
    return temperatures


def val_as_photos(val: SplitArrays, predictor: Predictor, size: int, seed: int = 11) -> SplitArrays:
    """Each val face in a photo of its own (``as_photo``), found, aligned and preprocessed as serving does; faces not found are left out."""
    rng = np.random.default_rng(seed)
    kept, images = [], []
    for index, face in enumerate(val.images):
        pixels, found = largest_face_pixels(predictor, as_photo(Image.fromarray(face), rng), size)
        if found:
            images.append(pixels)
            kept.append(index)
    return SplitArrays(val.files[kept], np.stack(images), val.age[kept], val.gender[kept], val.race[kept])


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    args = artifact_parser("python -m training.calibrate", __doc__).parse_args(argv)
    config_path = args.model_dir / "config.json"
    config = ModelConfig.from_file(config_path)
    val = load_splits_cached(args.data, args.split, config.input_size, args.cache)["val"]
    network = load_network(args.model_dir, config, calibrated=False)
    raw = predict_arrays(network, val)
    photos = val_as_photos(val, Predictor(), config.input_size)
    raw_photos = predict_arrays(network, photos)
    pooled = {name: np.concatenate([raw[name], raw_photos[name]]) for name in raw}
    labels = {head: getattr(val, head) for head in config.classification_heads}
    temperatures = fit_temperatures(pooled, {head: np.concatenate([labels[head], getattr(photos, head)]) for head in labels}, config.age_groups)
    calibration = Calibration(config.age_groups, temperatures)
    report = calibration_report(raw, labels, calibration)
    for head in labels:
        log.info("%s: temperatures %s, val ECE %.4f -> %.4f", head, temperatures[head], report[head]["ece_before"], report[head]["ece_after"])
    stored = json.loads(config_path.read_text())
    stored["calibration"] = {"method": CALIBRATION_METHOD, "temperatures": temperatures}
    config_path.write_text(json.dumps(stored, indent=2) + "\n")
    write_val_outputs(args.model_dir / "val_outputs.npz", calibration(raw), val, config)
    return temperatures


def write_val_outputs(path: Path, served: dict[str, np.ndarray], val: SplitArrays, config: ModelConfig) -> None:
    """Val's probabilities as serving gives them, per head, with the true labels (float16: the file stays small)."""
    heads = classified_heads(served, val, config)
    arrays = {
        f"{head}_{kind}": value
        for head, (probabilities, labels) in heads.items()
        for kind, value in (("probabilities", probabilities.astype(np.float16)), ("labels", labels.astype(np.int8)))
    }
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
