"""Greedy weight averaging ("model soup", Wortsman et al. 2022) of fine-tuned runs that share an initialisation.

Usage: ``python -m training.soup --runs runs/a runs/b ... [--data PATH] [--split PATH]``

Runs of ``training.finetune`` with the same seed start from the same weights (FaceRes and
the same head initialisation), so their averaged weights may read better than any one of
them, at one network's cost. The runs are sorted by their own val selection error; each is
added to the soup only if the averaged weights then read a lower one. Prints each step.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import keras
import numpy as np

from model.age import expected_age
from training.cli import DATASETS
from training.dataset import SplitArrays, load_splits_cached

log = logging.getLogger("training.soup")


def selection_error(model: keras.Model, val: SplitArrays, batch_size: int = 256) -> tuple[float, float, float, float]:
    """(selection error, age MAE, gender accuracy, race accuracy) on val: ``training.finetune``'s checkpoint criterion."""
    outputs: dict[str, list[np.ndarray]] = {"age": [], "gender": [], "race": []}
    for start in range(0, len(val), batch_size):
        batch = model.predict_on_batch(val.images[start : start + batch_size])
        for name, values in outputs.items():
            values.append(np.asarray(batch[name]))
    age, gender, race = (np.concatenate(outputs[name]) for name in ("age", "gender", "race"))
    mae = float(np.abs(expected_age(age) - val.age).mean())
    gender_accuracy = float((gender.argmax(1) == val.gender).mean())
    race_accuracy = float((race.argmax(1) == val.race).mean())
    return mae / 10 + (1 - gender_accuracy) + (1 - race_accuracy), mae, gender_accuracy, race_accuracy


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(prog="python -m training.soup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, nargs="+", required=True, help="run folders of training.finetune (same seed and image size)")
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--cache", type=Path, default=Path(".cache"))
    args = parser.parse_args(argv)
    models = [keras.saving.load_model(run / "face2data.keras", compile=False) for run in args.runs]
    size = models[0].input_shape[1]
    val = load_splits_cached(args.data, args.split, size, args.cache)["val"]
    weights = {run: model.get_weights() for run, model in zip(args.runs, models, strict=True)}
    scratch = models[0]

    def score(runs: list[Path]) -> tuple[float, float, float, float]:
        scratch.set_weights([np.mean(layer, axis=0) for layer in zip(*(weights[run] for run in runs), strict=True)])
        return selection_error(scratch, val)

    alone = {run: score([run]) for run in args.runs}
    ranked = sorted(args.runs, key=lambda run: alone[run][0])
    for run in ranked:
        log.info("%s alone: selection error %.4f (age MAE %.3f, gender %.4f, race %.4f)", run, *alone[run])
    soup, best = [ranked[0]], alone[ranked[0]]
    for run in ranked[1:]:
        candidate = score([*soup, run])
        kept = candidate[0] < best[0]
        log.info("+ %s: selection error %.4f (age MAE %.3f, gender %.4f, race %.4f): %s", run, *candidate, "kept" if kept else "dropped")
        if kept:
            soup, best = [*soup, run], candidate
    log.info("greedy soup: %s, selection error %.4f", ", ".join(map(str, soup)), best[0])
    return soup


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
