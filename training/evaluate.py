"""Evaluate the shipped network on the canonical test split and write metrics.json.

Usage: ``python -m training.evaluate [--model-dir model] [--data PATH] [--split PATH]``

It runs the exported ``.tflite`` through the same runtime as serving, so the published figures describe exactly what users get.
"""

from __future__ import annotations

import json
import logging

import numpy as np

from model.age import expected_age, group_of, group_probabilities
from model.config import ModelConfig
from model.runtime import Network, load_network
from training.cli import artifact_parser
from training.dataset import SplitArrays, load_splits_cached
from training.metrics import calibration_report, compute_metrics

log = logging.getLogger("training.evaluate")


def predict_arrays(network: Network, arrays: SplitArrays, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Network outputs for a whole split, in batches to bound memory."""
    batches = [network.predict(arrays.images[start : start + batch_size]) for start in range(0, len(arrays), batch_size)]
    return {name: np.concatenate([batch[name] for batch in batches]) for name in network.outputs}


def classified_heads(served: dict[str, np.ndarray], arrays: SplitArrays, config: ModelConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per classification head and the age groups, the served probabilities of a split and its true labels: what the batch summary's correction is fitted on."""
    groups = config.age_groups
    return {
        "gender": (served["gender"], arrays.gender),
        "race": (served["race"], arrays.race),
        "age_group": (group_probabilities(served["age"], groups), group_of(arrays.age, groups)),
    }


def evaluate_arrays(network: Network, config: ModelConfig, arrays: SplitArrays) -> dict:
    """All metrics of ``network`` on one split."""
    return metrics_of(predict_arrays(network, arrays), config, arrays)


def metrics_of(outputs: dict[str, np.ndarray], config: ModelConfig, arrays: SplitArrays) -> dict:
    """All metrics of a split's network ``outputs`` against its labels."""
    return compute_metrics(
        arrays.age,
        expected_age(outputs["age"]),
        arrays.gender,
        outputs["gender"],
        arrays.race,
        outputs["race"],
        config.genders,
        config.races,
        config.age_groups,
    )


def main(argv: list[str] | None = None) -> dict:
    parser = artifact_parser("python -m training.evaluate", __doc__)
    parser.add_argument("--on", choices=("test", "val"), default="test", help="val only prints (to choose between models); test writes metrics.json")
    args = parser.parse_args(argv)
    config = ModelConfig.from_file(args.model_dir / "config.json")
    arrays = load_splits_cached(args.data, args.split, config.input_size, args.cache)[args.on]
    # One pass of the network: the raw outputs, calibrated here as serving does, give both the figures and the calibration report.
    raw = predict_arrays(load_network(args.model_dir, config, calibrated=False), arrays)
    metrics = {"split": args.on, **metrics_of(config.calibration(raw), config, arrays)}
    metrics["calibration"] = calibration_report(raw, {head: getattr(arrays, head) for head in config.classification_heads}, config.calibration)
    if args.on == "test":
        (args.model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info(
        "%s: age MAE %.2f years, gender %.2f%%, race %.2f%% on %d images; ECE gender %.4f -> %.4f, race %.4f -> %.4f",
        args.on,
        metrics["age_mae"],
        100 * metrics["gender_accuracy"],
        100 * metrics["race_accuracy"],
        metrics["n_images"],
        *(metrics["calibration"][head][key] for head in config.classification_heads for key in ("ece_before", "ece_after")),
    )
    return metrics


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
