"""Everything serving reads from ``model/``, loaded here and only here, once per process.

``Predictor`` builds one ``ModelArtifacts`` in its constructor, before gunicorn forks: the
worker shares these pages with the master, and no request ever opens a file under ``model/``.
The dashboard draws its Training, Evaluation and Dataset tabs from the same object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from model.align import FaceTemplate
from model.batch.quantify import Reference, load_references
from model.config import MODEL_DIR, ModelConfig
from model.detect import FaceDetector
from model.history import read_history
from model.runtime import Network, load_network


@dataclass(frozen=True)
class ModelArtifacts:
    """The shipped model and what was measured about it."""

    config: ModelConfig
    network: Network
    explainer_network: Network
    """A second interpreter of the same network for SHAP's masked faces, so that an explanation
    never holds the lock that predictions wait on."""
    detector: FaceDetector
    template: FaceTemplate
    metrics: dict
    """``metrics.json`` (``make evaluate``): test-split figures; empty before evaluation."""
    outside: dict
    """``outside.json`` (``make evaluate-outside``): figures on photos from other sources; empty before that."""
    history: dict[str, list[float]]
    """``history.csv``: per-epoch curves, train and validation; empty before training."""
    dataset_summary: dict
    """``dataset.json`` (``make dataset-summary``): the make-up of the training data."""
    references: dict[str, Reference]
    """``val_outputs.npz`` (``make calibrate``): val's probabilities and labels per head, for the batch summary's adjusted shares."""


def _json_or_empty(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def load_artifacts(model_dir: Path = MODEL_DIR, threads: int = 2) -> ModelArtifacts:
    """Read and build every artifact of ``model_dir``; the network's probabilities come calibrated.

    The detector and the alignment template are the pipeline's, not a training run's
    (``make detector``, ``make template``): they always come from the shipped ``model/``, so a
    candidate network in ``runs/`` is judged through the same face pipeline users get.
    ``threads`` is how many cores one prediction may use: 2 for the server, 1 for batch
    workers that already run one process per core.
    """
    model_dir = Path(model_dir)
    config = ModelConfig.from_file(model_dir / "config.json")
    history_path = model_dir / "history.csv"
    return ModelArtifacts(
        config=config,
        network=load_network(model_dir, config, threads=threads),
        explainer_network=load_network(model_dir, config, threads=threads),
        detector=FaceDetector(MODEL_DIR / "detector", threads=threads),
        template=FaceTemplate.load(MODEL_DIR / "face_template.json"),
        metrics=_json_or_empty(model_dir / "metrics.json"),
        outside=_json_or_empty(model_dir / "outside.json"),
        history=read_history(history_path) if history_path.exists() else {},
        dataset_summary=_json_or_empty(model_dir / "dataset.json"),
        references=load_references(model_dir / "val_outputs.npz"),
    )
