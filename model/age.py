"""From the network's age distribution to the numbers people read.

The age head gives a probability for every year 0..116; its expectation is the age, its
quantiles give an honest range, and sums over decades give the age-group chart.
"""

from __future__ import annotations

import numpy as np

AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("0-2", 0, 2),
    ("3-9", 3, 9),
    ("10-19", 10, 19),
    ("20-29", 20, 29),
    ("30-39", 30, 39),
    ("40-49", 40, 49),
    ("50-59", 50, 59),
    ("60-69", 60, 69),
    ("70+", 70, 10_000),
)
"""(label, first year, last year) of each group shown to users."""


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


def age_groups(distribution: np.ndarray) -> dict[str, float]:
    """Probability of each group in ``AGE_GROUPS`` for one distribution."""
    total = float(distribution.sum())
    return {label: float(distribution[first : last + 1].sum() / total) for label, first, last in AGE_GROUPS}
