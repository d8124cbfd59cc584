"""Class shares of a collection, adjusted for the model's known confusions (quantification).

Summing calibrated probabilities ("expected counts") is biased whenever the model confuses
classes: on UTKFace, most "Others" faces are read as White, so a collection rich in "Others"
is reported with too few of them, however large it grows. Two standard corrections, both
assuming *label shift* (the collection's faces of one class look like val's faces of that
class; only the mix differs):

- **EM** (Saerens, Latinne & Decaestecker 2002): re-estimate the class priors so that the
  calibrated posteriors, re-weighted from val's priors to the new ones, agree with them.
- **BBSE** (Lipton, Wang & Smola 2018): invert the confusion matrix measured on val.

``ADJUSTMENTS`` says which ships for each head, as ``benchmarks/audit.py`` measured: EM for
gender and race. BBSE trusts the val confusion matrix fully, which fails worst on photos unlike
UTKFace. Neither helps the nine age groups: each is confused with its neighbours, and both
corrections amplify that into errors larger than the expected counts', so age groups are not
adjusted. Intervals come from a
bootstrap over the collection's faces *and* over the val faces the correction was fitted on
(priors, and each head's temperature refitted), so they carry the model's uncertainty too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.calibration import temper

EM_ITERATIONS = 200
EM_TOLERANCE = 1e-7
TEMPERATURES = np.exp(np.linspace(np.log(0.5), np.log(2.0), 41))
"""Multipliers of each head's temperature tried when a bootstrap draw refits it on resampled val faces."""
ADJUSTMENTS: dict[str, str | None] = {"gender": "em", "race": "em", "age_group": None}
"""The correction each head ships with; None: the expected shares stand."""
CHUNK_VALUES = 4_000_000
"""Tempered probabilities one chunk of bootstrap draws holds (32 MB), whatever the collection's or val's size."""


@dataclass(frozen=True)
class Reference:
    """One head's calibrated probabilities and true labels on val: what the corrections are fitted on."""

    probabilities: np.ndarray
    labels: np.ndarray


def load_references(path: Path) -> dict[str, Reference]:
    """``val_outputs.npz`` (written by ``training.calibrate``): per head, ``<head>_probabilities`` and ``<head>_labels``; none without it."""
    if not Path(path).exists():
        return {}
    with np.load(path) as stored:
        heads = {name.removesuffix("_labels") for name in stored.files if name.endswith("_labels")}
        return {head: Reference(stored[f"{head}_probabilities"].astype(np.float64), stored[f"{head}_labels"].astype(int)) for head in sorted(heads)}


def best_temperature(probabilities: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of ``weights`` (draws x faces, bootstrap counts), the ``TEMPERATURES`` entry with the least weighted log-loss."""
    picked = np.log(np.clip(temper(probabilities, TEMPERATURES[:, None, None]), 1e-12, 1.0))[
        :, np.arange(len(labels)), labels
    ]  # (temperatures, faces)
    return TEMPERATURES[np.argmin(weights @ -picked.T, axis=1)]


def em_shares(posteriors: np.ndarray, weights: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """EM priors of each draw: ``posteriors`` (draws x faces x classes, under ``prior``, draws x classes), faces weighted by ``weights``."""
    shares = prior.copy()
    total = weights.sum(axis=1, keepdims=True)
    for _ in range(EM_ITERATIONS):
        adjusted = posteriors * (shares / prior)[:, None, :]
        adjusted /= np.maximum(adjusted.sum(axis=2, keepdims=True), 1e-300)
        updated = np.einsum("df,dfk->dk", weights, adjusted) / np.maximum(total, 1e-12)
        if np.abs(updated - shares).max() < EM_TOLERANCE:
            return updated
        shares = updated
    return shares


def bbse_shares(
    posteriors: np.ndarray, weights: np.ndarray, reference: np.ndarray, reference_labels: np.ndarray, val_weights: np.ndarray
) -> np.ndarray:
    """BBSE priors of each draw: the collection's mean soft prediction solved against val's soft confusion matrix, then put on the simplex.

    ``reference`` (draws x val faces x classes) is val's probabilities at each draw's temperature, as the collection's are.
    """
    classes = posteriors.shape[2]
    predicted = np.einsum("df,dfk->dk", weights, posteriors) / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    onehot = np.eye(classes)[reference_labels]
    joint = np.einsum("dv,dvi,vj->dij", val_weights, reference, onehot)  # P(prediction i, label j) on val
    confusion = joint / np.maximum(joint.sum(axis=1, keepdims=True), 1e-12)  # P(prediction i | label j)
    solved = np.stack([np.linalg.lstsq(matrix, target, rcond=None)[0] for matrix, target in zip(confusion, predicted, strict=True)])
    solved = np.clip(solved, 0, None)
    return solved / np.maximum(solved.sum(axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class Estimate:
    """Shares (fractions summing to 1) with the 2.5% and 97.5% bootstrap quantiles of each."""

    share: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def to_dict(self) -> dict[str, list[float]]:
        return {key: [round(float(value), 4) for value in getattr(self, key)] for key in ("share", "low", "high")}


def bootstrap_weights(count: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Row 0 all ones (the estimate itself), then ``draws`` rows of Poisson(1) counts; a draw that picked nothing is drawn again."""
    weights = rng.poisson(1.0, (draws, count))
    while (empty := weights.sum(axis=1) == 0).any():
        weights[empty] = rng.poisson(1.0, (int(empty.sum()), count))
    return np.vstack([np.ones(count), weights]).astype(np.float64)


def _estimate(point: np.ndarray, draws: np.ndarray) -> Estimate:
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return Estimate(point, np.minimum(low, point), np.maximum(high, point))


def expected_shares(probabilities: np.ndarray, rng: np.random.Generator, draws: int) -> Estimate:
    """Mean calibrated probability per class, with a Poisson bootstrap over the faces."""
    weights = bootstrap_weights(len(probabilities), draws, rng)
    sums = weights @ probabilities
    shares = sums / np.maximum(sums.sum(axis=1, keepdims=True), 1e-12)
    return _estimate(shares[0], shares[1:])


def adjusted_shares(probabilities: np.ndarray, reference: Reference, rng: np.random.Generator, draws: int, method: str = "em") -> Estimate:
    """Shares corrected for the model's val confusions (``em`` or ``bbse``), bootstrapped over the collection and over val.

    Draw 0 is the estimate itself: all faces once, val as it is. Each draw first refits a
    temperature on its val faces (the age groups' probabilities are not calibrated otherwise). Draws
    run in chunks that keep the tempered probabilities under ``CHUNK_VALUES`` numbers.
    """
    if method not in ("em", "bbse"):
        raise ValueError(f"method must be 'em' or 'bbse', got {method!r}")
    faces, classes = probabilities.shape
    onehot = np.eye(classes)[reference.labels]
    weights, val_weights = bootstrap_weights(faces, draws, rng), bootstrap_weights(len(onehot), draws, rng)
    temperatures = best_temperature(reference.probabilities, reference.labels, val_weights)
    priors = np.maximum((val_weights @ onehot) / val_weights.sum(axis=1, keepdims=True), 1e-6)
    chunk = max(1, CHUNK_VALUES // (max(faces, len(onehot)) * classes))
    shares = []
    for start in range(0, draws + 1, chunk):
        part = slice(start, start + chunk)
        at = temperatures[part, None, None]
        if method == "em":
            shares.append(em_shares(temper(probabilities, at), weights[part], priors[part]))
        else:
            shares.append(
                bbse_shares(temper(probabilities, at), weights[part], temper(reference.probabilities, at), reference.labels, val_weights[part])
            )
    shares = np.concatenate(shares)
    return _estimate(shares[0], shares[1:])
