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
adjusted. Intervals come from a bootstrap over the collection's faces *and* over the val faces
the correction was fitted on (priors, and each head's temperature refitted), widened to the
correction's own errors measured out of sample on val (fitted on one half, tried on shifted
collections of the other): the bootstrap alone held the true race share in only 81% of shifted
test collections, because it cannot see where the model reads a collection differently from val.
"""

from __future__ import annotations

import functools
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
HELD_OUT_RUNS = 200
"""Simulated collections that measure the correction's held-out errors, half on each half of val."""


@dataclass(frozen=True, eq=False)
class Reference:
    """One head's calibrated probabilities and true labels on val: what the corrections are fitted on.

    Compared and hashed by identity, so that ``held_out_bounds`` can remember its results per reference.
    """

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


def corrected(probabilities: np.ndarray, reference: Reference, weights: np.ndarray, val_weights: np.ndarray, method: str) -> np.ndarray:
    """``(draws, classes)``: the correction of each draw, the collection's faces counted by a row of ``weights`` and val's by
    a row of ``val_weights`` (its prior and a temperature refitted on it). Draws run in chunks that keep the tempered
    probabilities under ``CHUNK_VALUES`` numbers."""
    faces, classes = probabilities.shape
    onehot = np.eye(classes)[reference.labels]
    temperatures = best_temperature(reference.probabilities, reference.labels, val_weights)
    priors = np.maximum((val_weights @ onehot) / val_weights.sum(axis=1, keepdims=True), 1e-6)
    chunk = max(1, CHUNK_VALUES // (max(faces, len(onehot)) * classes))
    shares = []
    for start in range(0, len(weights), chunk):
        part = slice(start, start + chunk)
        at = temperatures[part, None, None]
        if method == "em":
            shares.append(em_shares(temper(probabilities, at), weights[part], priors[part]))
        else:
            shares.append(
                bbse_shares(temper(probabilities, at), weights[part], temper(reference.probabilities, at), reference.labels, val_weights[part])
            )
    return np.concatenate(shares)


def held_out_errors(reference: Reference, faces: int, method: str, rng: np.random.Generator, runs: int = HELD_OUT_RUNS) -> np.ndarray:
    """``(runs, classes)``: estimate minus truth of the correction fitted on one half of val, on shifted collections of
    ``faces`` faces drawn from the other half (class mixes from a flat Dirichlet), each half in turn.

    The bootstrap sees the noise of the collection and of val, not the correction's own error where the model reads the
    collection differently from the val it was fitted on; out of sample, these errors include it.
    """
    order = rng.permutation(len(reference.labels))
    errors = []
    for fit, held in ((order[::2], order[1::2]), (order[1::2], order[::2])):
        probabilities, labels = reference.probabilities[held], reference.labels[held]
        classes = probabilities.shape[1]
        frequency = np.maximum(np.bincount(labels, minlength=classes) / len(labels), 1e-9)
        counts, truths = [], []
        for mix in rng.dirichlet(np.ones(classes), runs // 2):
            chance = mix[labels] / frequency[labels]
            picked = rng.choice(len(labels), faces, p=chance / chance.sum())
            counts.append(np.bincount(picked, minlength=len(labels)))
            truths.append(np.bincount(labels[picked], minlength=classes) / faces)
        half = Reference(reference.probabilities[fit], reference.labels[fit])
        estimates = corrected(probabilities, half, np.array(counts, dtype=np.float64), np.ones((len(counts), len(fit))), method)
        errors.append(estimates - np.array(truths))
    return np.concatenate(errors)


@functools.lru_cache(maxsize=64)
def held_out_bounds(reference: Reference, faces: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5% and 97.5% quantiles of ``held_out_errors`` per class. They depend only on val, the collection's size and
    the method, so they are computed once per process for each, with a seed of their own (the same interval each time)."""
    below, above = np.percentile(held_out_errors(reference, faces, method, np.random.default_rng(faces)), [2.5, 97.5], axis=0)
    return below, above


def adjusted_shares(probabilities: np.ndarray, reference: Reference, rng: np.random.Generator, draws: int, method: str = "em") -> Estimate:
    """Shares corrected for the model's val confusions (``em`` or ``bbse``), with a 95% interval that holds both the
    bootstrap's (over the collection and over val) and the correction's own held-out errors (``held_out_errors``).

    Draw 0 of the bootstrap is the estimate itself: all faces once, val as it is. Each draw first refits a
    temperature on its val faces (the age groups' probabilities are not calibrated otherwise).
    """
    if method not in ("em", "bbse"):
        raise ValueError(f"method must be 'em' or 'bbse', got {method!r}")
    faces = len(probabilities)
    weights, val_weights = bootstrap_weights(faces, draws, rng), bootstrap_weights(len(reference.labels), draws, rng)
    shares = corrected(probabilities, reference, weights, val_weights, method)
    bootstrap = _estimate(shares[0], shares[1:])
    below, above = held_out_bounds(reference, faces, method)
    low = np.clip(np.minimum(bootstrap.low, bootstrap.share - above), 0, 1)
    high = np.clip(np.maximum(bootstrap.high, bootstrap.share - below), 0, 1)
    return Estimate(bootstrap.share, low, high)
