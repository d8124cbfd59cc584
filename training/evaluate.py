"""Evaluate the shipped network on the canonical test split and write metrics.json.

Usage: ``python -m training.evaluate [--model-dir model] [--data PATH] [--split PATH]``

It runs the exported ``.tflite`` through the same runtime as serving (with its mirror
averaging), so the published figures describe exactly what users get.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from model.age import expected_age
from model.config import MODEL_DIR, ModelConfig
from model.runtime import Network
from training.dataset import SplitArrays, load_splits_cached
from training.metrics import compute_metrics

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
log = logging.getLogger("training.evaluate")


def predict_arrays(network: Network, arrays: SplitArrays, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Network outputs for a whole split, in batches to bound memory."""
    batches = [network.predict(arrays.images[start : start + batch_size]) for start in range(0, len(arrays), batch_size)]
    return {name: np.concatenate([batch[name] for batch in batches]) for name in ("age", "gender", "race")}


def evaluate_arrays(network: Network, config: ModelConfig, arrays: SplitArrays) -> dict:
    """All metrics of ``network`` on one split."""
    outputs = predict_arrays(network, arrays)
    return compute_metrics(
        arrays.age, expected_age(outputs["age"]), arrays.gender, outputs["gender"], arrays.race, outputs["race"], config.genders, config.races
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--cache", type=Path, default=Path(".cache"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    config = ModelConfig.from_file(args.model_dir / "config.json")
    test = load_splits_cached(args.data, args.split, config.input_size, args.cache)["test"]
    metrics = {"split": "test", **evaluate_arrays(Network(args.model_dir / "face2data.tflite"), config, test)}
    (args.model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info(
        "test: age MAE %.2f years, gender %.2f%%, race %.2f%% on %d images",
        metrics["age_mae"],
        100 * metrics["gender_accuracy"],
        100 * metrics["race_accuracy"],
        metrics["n_images"],
    )
    return metrics


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
