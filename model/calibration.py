"""Calibrated probabilities: temperature scaling of the gender and race distributions.

A network trained with cross-entropy (and label smoothing) says
"90%" when it is right more or less often than 90% of the time. Dividing the log-probabilities
by one temperature per head, fitted on val (``training.calibrate``), fixes that without
changing any label: the argmax is the same at every temperature. The age distribution is left
as trained, because tempering it would move the expected age, which is what the age head is
chosen for. The temperatures travel in ``config.json``; serving applies them here.
"""

from __future__ import annotations

import numpy as np


def temper(probabilities: np.ndarray, temperature: float | np.ndarray) -> np.ndarray:
    """``softmax(log(p) / T)`` along the last axis: T > 1 softens, T < 1 sharpens, T = 1 is the identity.

    ``temperature`` may be an array that broadcasts against ``probabilities``: the batch
    summary tempers one collection at many bootstrap temperatures at once. The result keeps
    at least float32 (what LiteRT serves), float64 for float64 input.
    """
    temperature = np.asarray(temperature)
    if (temperature <= 0).any():
        raise ValueError(f"temperature must be positive, got {temperature}")
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    tempered = np.exp(logits)
    return (tempered / tempered.sum(axis=-1, keepdims=True)).astype(np.result_type(probabilities, np.float32))


def calibrate(outputs: dict[str, np.ndarray], temperatures: dict[str, float]) -> dict[str, np.ndarray]:
    """``outputs`` with each head in ``temperatures`` tempered; other heads as they are."""
    return {name: temper(values, temperatures[name]) if name in temperatures else values for name, values in outputs.items()}
