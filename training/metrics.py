"""Test-split figures for metrics.json: headline numbers, per-group results, confusions.

Per-group figures are as important as the headline: a model that reads age or gender
worse for one race, or gender worse for one age, is a model whose bias users must be told about.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from model.calibration import Calibration

ECE_BINS = 15
"""Equal-width confidence bins of the expected calibration error, as in Guo et al. (2017)."""
CALIBRATION_METHOD = "temperature scaling per head and predicted age group, fitted on val and on val's faces put back into photos"


def _mean_absolute_error(error: np.ndarray) -> float | None:
    return round(float(error.mean()), 4) if len(error) else None


def compute_metrics(
    age_true: np.ndarray,
    age_pred: np.ndarray,
    gender_true: np.ndarray,
    gender_prob: np.ndarray,
    race_true: np.ndarray,
    race_prob: np.ndarray,
    genders: tuple[str, ...],
    races: tuple[str, ...],
    age_groups: tuple[tuple[str, int, int], ...],
) -> dict:
    """All figures of one evaluation; class indices follow ``genders`` and ``races``, age bands are config.json's ``age_groups``."""
    gender_pred = gender_prob.argmax(axis=1)
    race_pred = race_prob.argmax(axis=1)
    age_error = np.abs(age_pred - age_true)

    def per_group(mask: np.ndarray) -> dict:
        return {
            "n_images": int(mask.sum()),
            "age_mae": _mean_absolute_error(age_error[mask]),
            "gender_accuracy": round(float(accuracy_score(gender_true[mask], gender_pred[mask])), 4),
            "race_accuracy": round(float(accuracy_score(race_true[mask], race_pred[mask])), 4),
        }

    return {
        "n_images": len(age_true),
        "age_mae": _mean_absolute_error(age_error),
        "gender_accuracy": round(float(accuracy_score(gender_true, gender_pred)), 4),
        "race_accuracy": round(float(accuracy_score(race_true, race_pred)), 4),
        "gender_macro_f1": round(float(f1_score(gender_true, gender_pred, average="macro")), 4),
        "race_macro_f1": round(float(f1_score(race_true, race_pred, average="macro")), 4),
        "age_within_5_years": round(float((age_error <= 5).mean()), 4),
        "by_age_band": {label: per_group(band) for label, low, high in age_groups if (band := (age_true >= low) & (age_true <= high)).any()},
        "by_race": {name: per_group(race_true == index) for index, name in enumerate(races)},
        "by_gender": {name: per_group(gender_true == index) for index, name in enumerate(genders)},
        "confusion": {
            "gender": {"labels": list(genders), "matrix": confusion_matrix(gender_true, gender_pred, labels=range(len(genders))).tolist()},
            "race": {"labels": list(races), "matrix": confusion_matrix(race_true, race_pred, labels=range(len(races))).tolist()},
        },
    }


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> dict:
    """Per confidence bin: faces, mean confidence and accuracy of the top label; and the ECE.

    ECE is the faces-weighted mean gap between confidence and accuracy over the bins.
    """
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows, gap = [], 0.0
    for b in range(bins):
        mask = index == b
        if not mask.any():
            continue
        mean_confidence, accuracy = float(confidence[mask].mean()), float(correct[mask].mean())
        gap += mask.sum() * abs(mean_confidence - accuracy)
        rows.append(
            {
                "low": round(float(edges[b]), 4),
                "high": round(float(edges[b + 1]), 4),
                "n": int(mask.sum()),
                "confidence": round(mean_confidence, 4),
                "accuracy": round(accuracy, 4),
            }
        )
    return {"ece": round(gap / len(labels), 4), "bins": rows}


def calibration_report(raw: dict[str, np.ndarray], labels: dict[str, np.ndarray], calibration: Calibration) -> dict:
    """The ``calibration`` section of metrics.json: per head of ``labels``, its temperatures (per predicted age group) and reliability before and after."""
    report = {"method": CALIBRATION_METHOD, "bins": ECE_BINS}
    calibrated = calibration(raw)
    for head in labels:
        before = reliability(raw[head], labels[head])
        after = reliability(calibrated[head], labels[head])
        report[head] = {
            "temperature": {group: round(value, 4) for group, value in calibration.temperatures.get(head, {}).items()},
            "ece_before": before["ece"],
            "ece_after": after["ece"],
            "before": before["bins"],
            "after": after["bins"],
        }
    return report
