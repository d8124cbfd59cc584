"""Calibrated probabilities: temperature scaling of the gender and race distributions, per predicted age group.

A network trained with cross-entropy (and label smoothing) says "90%" when it is right more or
less often than 90% of the time. Dividing the log-probabilities by a temperature fixes that
without changing any label: the argmax is the same at every temperature. How sure a head
should be depends on the face: gender is read far less reliably from a baby than from an adult,
so a single temperature leaves children's gender too sure and adults' too shy. Each head has
one temperature per age group that the network itself predicts for the face (``training.calibrate``
fits them), and serving applies the one of each face. The age distribution is left as trained,
because tempering it would move the expected age. The temperatures travel in ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.age import expected_age, group_of


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


@dataclass(frozen=True)
class Calibration:
    """config.json's ``calibration``: per classification head, a temperature for each predicted age group; empty: raw outputs."""

    age_groups: tuple[tuple[str, int, int], ...]
    temperatures: dict[str, dict[str, float]] = field(default_factory=dict)
    """head -> age group label -> temperature."""

    def per_face(self, head: str, outputs: dict[str, np.ndarray]) -> np.ndarray:
        """``(n, 1)``: the temperature of ``head`` for each face, by the age group its age distribution predicts."""
        groups = group_of(expected_age(outputs["age"]), self.age_groups)
        table = np.array([self.temperatures[head][label] for label, _, _ in self.age_groups])
        return table[groups][:, None]

    def __call__(self, outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``outputs`` with each head that has temperatures tempered, face by face; other heads as they are."""
        return {name: temper(values, self.per_face(name, outputs)) if name in self.temperatures else values for name, values in outputs.items()}
