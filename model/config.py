"""Reading the model folder, the contract between training and serving.

Serving reads only what a training run wrote here: the ``.tflite`` network and its
``config.json`` (input size, label order). Nothing is hard-coded on the serving side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ModelConfig:
    """What serving needs to know about the shipped network."""

    input_size: int
    genders: tuple[str, ...]
    races: tuple[str, ...]
    test_time_zooms: tuple[float, ...]
    test_time_mirror: bool
    raw: dict
    temperatures: dict[str, float] = field(default_factory=dict)
    """Per classification head, the temperature fitted on val (``model.calibration``); none before calibration."""

    @classmethod
    def from_file(cls, path: Path) -> ModelConfig:
        raw = json.loads(Path(path).read_text())
        return cls(
            input_size=int(raw["input"]["size"]),
            genders=tuple(raw["labels"]["gender"]),
            races=tuple(raw["labels"]["race"]),
            test_time_zooms=tuple(float(scale) for scale in raw["test_time_augmentation"]["zooms"]),
            test_time_mirror=bool(raw["test_time_augmentation"]["mirror"]),
            raw=raw,
            temperatures={head: float(t) for head, t in raw.get("calibration", {}).get("temperatures", {}).items()},
        )
