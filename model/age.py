"""From the network's age distribution to the numbers people read.

The age head gives a probability for every year of config.json's range; its expectation is the age, its
quantiles give an honest range, and sums over decades give the age-group chart.
"""

from __future__ import annotations

import numpy as np


def expected_age(distribution: np.ndarray) -> np.ndarray:
    """Expected age in years of each row of a ``(n, years)`` distribution."""
    years = np.arange(distribution.shape[-1], dtype=np.float64)
    return distribution @ years / distribution.sum(axis=-1)


def age_interval(distribution: np.ndarray, coverage: float = 0.8) -> tuple[int, int]:
    """Central interval of one distribution holding ``coverage`` of its probability, in whole years."""
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be between 0 and 1, got {coverage}")
    cumulative = np.cumsum(distribution) / distribution.sum()
    tail = (1 - coverage) / 2
    low = int(np.searchsorted(cumulative, tail))
    high = int(np.searchsorted(cumulative, 1 - tail))
    return low, min(high, len(distribution) - 1)


def group_probabilities(distributions: np.ndarray, groups: tuple[tuple[str, int, int], ...]) -> np.ndarray:
    """``(n, groups)``: the probability of each of ``groups`` (config.json's ``(label, first, last)``) for each row of ``(n, years)`` distributions."""
    sums = np.stack([distributions[:, first : last + 1].sum(axis=1) for _, first, last in groups], axis=1)
    return sums / distributions.sum(axis=1, keepdims=True)


def age_groups(distribution: np.ndarray, groups: tuple[tuple[str, int, int], ...]) -> dict[str, float]:
    """Probability of each of ``groups`` for one distribution, by label."""
    return {label: float(value) for (label, _, _), value in zip(groups, group_probabilities(distribution[None], groups)[0], strict=True)}


def group_of(ages: np.ndarray, groups: tuple[tuple[str, int, int], ...]) -> np.ndarray:
    """The index in ``groups`` of each age in years (the groups are consecutive, from year 0)."""
    return np.searchsorted([first for _, first, _ in groups], np.asarray(ages), side="right") - 1
