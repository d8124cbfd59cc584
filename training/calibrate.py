"""Fit the temperature of each classification head on val, and measure calibration.

Usage: ``python -m training.calibrate [--model-dir model]``

Writes the temperatures into ``config.json`` (``calibration``), where serving reads them.
The fit minimises the negative log-likelihood of the val labels over one scalar per head;
the expected calibration error (ECE) is measured with 15 equal-width confidence bins.
"""

from __future__ import annotations

import json
import logging

import numpy as np
from scipy.optimize import minimize_scalar

from model.calibration import temper
from model.config import ModelConfig
from model.runtime import load_network
from training.cli import artifact_parser
from training.dataset import load_splits_cached
from training.evaluate import predict_arrays
from training.metrics import calibration_report

log = logging.getLogger("training.calibrate")


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


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = artifact_parser("python -m training.calibrate", __doc__).parse_args(argv)
    config_path = args.model_dir / "config.json"
    config = ModelConfig.from_file(config_path)
    val = load_splits_cached(args.data, args.split, config.input_size, args.cache)["val"]
    raw = predict_arrays(load_network(args.model_dir, config, calibrated=False), val)
    labels = {head: getattr(val, head) for head in config.classification_heads}
    temperatures = {head: fit_temperature(raw[head], labels[head]) for head in labels}
    report = calibration_report(raw, labels, temperatures)
    for head in labels:
        log.info("%s: temperature %.3f, val ECE %.4f -> %.4f", head, temperatures[head], report[head]["ece_before"], report[head]["ece_after"])
    stored = json.loads(config_path.read_text())
    stored["calibration"] = {"method": "temperature scaling, fitted on val", "temperatures": {head: round(t, 4) for head, t in temperatures.items()}}
    config_path.write_text(json.dumps(stored, indent=2) + "\n")
    return temperatures


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
