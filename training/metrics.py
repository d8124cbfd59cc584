"""Test-split figures for metrics.json: headline numbers, per-group results, confusions.

Per-group figures are as important as the headline: a model that reads age or gender
worse for one race is a model whose bias users must be told about.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

AGE_BANDS: tuple[tuple[str, int, int], ...] = (*((f"{start}-{start + 9}", start, start + 9) for start in range(0, 70, 10)), ("70+", 70, 10_000))


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
) -> dict:
    """All figures of one evaluation; class indices follow ``genders`` and ``races``."""
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
        "age_mae_by_band": {label: _mean_absolute_error(age_error[(age_true >= low) & (age_true <= high)]) for label, low, high in AGE_BANDS},
        "by_race": {name: per_group(race_true == index) for index, name in enumerate(races)},
        "by_gender": {name: per_group(gender_true == index) for index, name in enumerate(genders)},
        "confusion": {
            "gender": {"labels": list(genders), "matrix": confusion_matrix(gender_true, gender_pred, labels=range(len(genders))).tolist()},
            "race": {"labels": list(races), "matrix": confusion_matrix(race_true, race_pred, labels=range(len(races))).tolist()},
        },
    }
