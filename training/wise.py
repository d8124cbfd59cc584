"""Robust fine-tuning (WiSE-FT, Wortsman et al., CVPR 2022): the fine-tuned blocks pulled back toward FaceRes's own.

Usage: ``python -m training.wise --run runs/faceres160``

Fine-tuning on UTKFace fits UTKFace's look; FaceRes's pretrained blocks learned faces from
far more varied photos (VGGFace2). For each block that fine-tuning trained, the weights
become ``(1 - a) * pretrained + a * fine-tuned``; the heads stay as trained, and nothing is
trained again. ``a`` is chosen by a rule stated before any figure is seen (:func:`choose`):

1. **UTKFace val, within its noise**: keep every ``a`` whose val selection error (age MAE in
   tens of years + gender error + race error, as the checkpoint is chosen) lies within one
   bootstrap standard error of the lowest;
2. **then the outside sets decide**: of those, the ``a`` with the highest mean of LAG young and
   adult gender (held-out identities), FRL gender and FRL race (``training.outside``); a tie
   goes to the larger ``a``.

The run's ``face2data.keras`` is replaced by the chosen network (the plain fine-tuned one is
kept as ``face2data-finetuned.keras``), and ``config.json`` records every candidate's figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

import keras
import numpy as np

from model.predictor import Predictor
from training import faceres
from training.cli import DATASETS
from training.dataset import SplitArrays, load_splits_cached
from training.outside import OUTSIDE, OutsideSet, load_outside, outside_metrics

log = logging.getLogger("training.wise")
ALPHAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
BOOTSTRAP_DRAWS = 200
OUTSIDE_SCORE = (
    ("lag young, held-out", "gender_accuracy"),
    ("lag adult, held-out", "gender_accuracy"),
    ("frl", "gender_accuracy"),
    ("frl", "race_accuracy"),
)
"""The outside figures whose mean decides between the candidates that val cannot tell apart."""


def interpolate(network: keras.Model, pretrained: dict[str, list[np.ndarray]], alpha: float) -> keras.Model:
    """A copy of ``network`` whose layers named in ``pretrained`` hold ``(1 - alpha) * pretrained + alpha * trained``."""
    blended = keras.models.clone_model(network)
    blended.set_weights(network.get_weights())
    for name, weights in pretrained.items():
        layer = blended.get_layer(name)
        layer.set_weights([(1 - alpha) * start + alpha * trained for start, trained in zip(weights, layer.get_weights(), strict=True)])
    return blended


def pretrained_blocks(network: keras.Model, frozen_blocks: int) -> dict[str, list[np.ndarray]]:
    """FaceRes's package weights of every convolution that fine-tuning trained (blocks after ``frozen_blocks``)."""
    reference = faceres.stem(network.input_shape[1], len(faceres.BLOCKS))
    faceres.load_pretrained(reference, faceres.read_graph()[1])
    trained = {f"conv_{kind}_{block}" for block in range(frozen_blocks + 1, len(faceres.BLOCKS) + 1) for kind in ("dw", "pw")}
    return {layer.name: layer.get_weights() for layer in reference.layers if layer.name in trained}


def selection_errors(outputs: dict[str, np.ndarray], arrays: SplitArrays) -> np.ndarray:
    """Per face, its share of the val selection error: absolute age error / 10 + gender wrong + race wrong."""
    years = np.arange(outputs["age"].shape[1])
    return (
        np.abs(outputs["age"] @ years - arrays.age) / 10 + (outputs["gender"].argmax(1) != arrays.gender) + (outputs["race"].argmax(1) != arrays.race)
    )


def judge(network: keras.Model, val: SplitArrays, outside: dict[str, OutsideSet], rng: np.random.Generator) -> dict:
    """One candidate's val selection error with its bootstrap standard error, and its outside figures."""
    errors = selection_errors(_predict(network, val.images), val)
    draws = rng.integers(0, len(errors), (BOOTSTRAP_DRAWS, len(errors)))
    reports = {name: outside_metrics(_predict(network, part.arrays.images), part) for name, part in outside.items()}
    return {
        "val_selection_error": round(float(errors.mean()), 4),
        "val_standard_error": round(float(errors[draws].mean(axis=1).std()), 4),
        "outside_score": round(float(np.mean([reports[name][key] for name, key in OUTSIDE_SCORE])), 4),
        "outside": reports,
    }


def choose(candidates: dict[float, dict]) -> float:
    """The rule of the module docstring: val within one standard error of the best, then the best outside score, then the larger ``a``."""
    best = min(candidates.values(), key=lambda row: row["val_selection_error"])
    bar = best["val_selection_error"] + best["val_standard_error"]
    within = [alpha for alpha, row in candidates.items() if row["val_selection_error"] <= bar]
    return max(within, key=lambda alpha: (candidates[alpha]["outside_score"], alpha))


def _scored(row: dict) -> dict[str, float]:
    """The outside figures that make a candidate's score, by name (``"frl race_accuracy"``)."""
    return {f"{name} {key}": row["outside"][name][key] for name, key in OUTSIDE_SCORE}


def _predict(network: keras.Model, images: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    batches = [network.predict_on_batch(images[start : start + batch_size]) for start in range(0, len(images), batch_size)]
    return {name: np.concatenate([np.asarray(batch[name]) for batch in batches]) for name in batches[0]}


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(prog="python -m training.wise", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="a folder written by training.finetune")
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--outside", type=Path, default=OUTSIDE)
    parser.add_argument("--alphas", type=float, nargs="+", default=ALPHAS, help="the candidates' a (1: the fine-tuned network)")
    parser.add_argument("--cache", type=Path, default=Path(".cache"))
    args = parser.parse_args(argv)
    config_path = args.run / "config.json"
    config = json.loads(config_path.read_text())
    finetuned_path = args.run / "face2data-finetuned.keras"
    if not finetuned_path.exists():
        shutil.copyfile(args.run / "face2data.keras", finetuned_path)
    network = keras.saving.load_model(finetuned_path, compile=False)
    size = network.input_shape[1]
    val = load_splits_cached(args.data, args.split, size, args.cache)["val"]
    outside = {name: part for name, part in load_outside(Predictor(), size, args.outside, args.cache).items() if name != "lag train"}
    pretrained = pretrained_blocks(network, config["training"]["frozen_blocks"])
    candidates = {}
    for alpha in args.alphas:
        candidates[alpha] = judge(interpolate(network, pretrained, alpha), val, outside, np.random.default_rng(0))
        row = candidates[alpha]
        log.info(
            "a = %.2f: val selection error %.4f (SE %.4f), outside score %.4f",
            alpha,
            row["val_selection_error"],
            row["val_standard_error"],
            row["outside_score"],
        )
    alpha = choose(candidates)
    interpolate(network, pretrained, alpha).save(args.run / "face2data.keras")
    config["training"]["wise_ft"] = {
        "alpha": alpha,
        "blocks": sorted(pretrained),
        "rule": "val selection error within one bootstrap standard error of the best, then the best mean of the outside figures",
        "candidates": {str(a): {**{key: value for key, value in row.items() if key != "outside"}, **_scored(row)} for a, row in candidates.items()},
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    log.info("chose a = %.2f", alpha)
    return alpha


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
