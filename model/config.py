"""Reading ``config.json``, the contract between training and serving.

Training writes it (``training.contract``); everything on the serving side that names a
label, an age group or the input size (the predictor, the API and its OpenAPI document, the
dashboard, the batch summary) reads it from here, so nothing is hard-coded twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from model.calibration import Calibration

MODEL_DIR = Path(__file__).resolve().parent / "shipped"
"""The shipped model's artifacts; the code that reads them lives one folder up."""


@dataclass(frozen=True)
class ModelConfig:
    """What serving needs to know about the shipped network."""

    input_size: int
    pixels: dict
    """The input's ``dtype``, ``channels`` and ``color`` order."""
    genders: tuple[str, ...]
    races: tuple[str, ...]
    max_age: int
    age_groups: tuple[tuple[str, int, int], ...]
    """(label, first year, last year) of each group shown to users."""
    outputs: tuple[str, ...]
    raw: dict = field(repr=False)
    temperatures: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per classification head and predicted age group, the temperature ``training.calibrate`` fitted; none before calibration."""

    @classmethod
    def from_file(cls, path: Path) -> ModelConfig:
        raw = json.loads(Path(path).read_text())
        return cls(
            input_size=int(raw["input"]["size"]),
            pixels={key: value for key, value in raw["input"].items() if key != "size"},
            genders=tuple(raw["labels"]["gender"]),
            races=tuple(raw["labels"]["race"]),
            max_age=int(raw["age"]["years"][1]),
            age_groups=tuple((group["label"], int(group["first"]), int(group["last"])) for group in raw["age"]["groups"]),
            outputs=tuple(raw["outputs"]),
            raw=raw,
            temperatures={
                head: {group: float(t) for group, t in by_group.items()}
                for head, by_group in raw.get("calibration", {}).get("temperatures", {}).items()
            },
        )

    @cached_property
    def labels(self) -> dict[str, tuple[str, ...]]:
        """Class labels of each classification head, and of the age groups, in the model's order."""
        return {"gender": self.genders, "race": self.races, "age_group": tuple(label for label, _, _ in self.age_groups)}

    @property
    def classification_heads(self) -> tuple[str, ...]:
        """The outputs that are a distribution over labels (the rest, age, is over years)."""
        return tuple(name for name in self.outputs if name in self.labels)

    @property
    def calibration(self) -> Calibration:
        """The shipped temperatures, ready to apply to the network's raw outputs."""
        return Calibration(self.age_groups, self.temperatures)

    @property
    def training(self) -> dict:
        """How the shipped network was trained (``training.finetune``'s settings)."""
        return self.raw.get("training", {})
