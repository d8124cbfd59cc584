"""What a collection is made of, from its batch rows, with honest uncertainty (numpy and plotly only).

Gender and race shares are **expected counts**: the sum over faces of each calibrated
probability, not a count of argmax labels (which over-counts the majority class whenever the
model hesitates). Their 95% intervals come from a Poisson bootstrap over faces: they say how
much the figure would move with another sample of such faces, not how wrong the model is.
Shared by the HTML report (``model.batch.report``) and the dashboard's Batch tab.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from model.batch.rows import probability_column
from model.config import ModelConfig

BOOTSTRAP_DRAWS = 1000
MARGIN = {"l": 50, "r": 10, "t": 40, "b": 40}


@dataclass
class Shares:
    labels: list[str]
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def share(self) -> np.ndarray:
        total = self.expected.sum()
        return self.expected / total if total else np.zeros_like(self.expected)


@dataclass
class CollectionSummary:
    files: int
    faces: int
    age_edges: np.ndarray
    """Whole-year edges of the age histogram's bins, spanning the ages present (numpy's ``auto`` rule)."""
    age_counts: np.ndarray
    shares: dict[str, Shares]
    """Per head (``gender``, ``race``)."""
    faces_per_photo: dict[int, int]
    """Photos read without error, by their number of faces."""
    errors: list[tuple[str, str]]
    """(file, message) of every file that could not be read."""


def expected_counts(probabilities: np.ndarray, labels: list[str], rng: np.random.Generator, draws: int = BOOTSTRAP_DRAWS) -> Shares:
    """Sum of each column of ``probabilities`` (faces x classes), with 2.5% and 97.5% Poisson-bootstrap quantiles over faces."""
    values = np.asarray(probabilities, dtype=np.float64).reshape(-1, len(labels))
    sums = np.stack([rng.poisson(1.0, len(values)) @ values for _ in range(draws)]) if len(values) else np.zeros((1, len(labels)))
    low, high = np.percentile(sums, [2.5, 97.5], axis=0)
    return Shares(list(labels), values.sum(axis=0), low, high)


def summarise(columns: dict[str, np.ndarray], config: ModelConfig, seed: int = 0) -> CollectionSummary:
    """The four summaries of a batch table given as columns (``file``, ``face``, ``age``, ``error``, ``p_<label>``); labels are ``config``'s."""
    rng = np.random.default_rng(seed)
    files = np.asarray(columns["file"], dtype=object)
    face = np.array([value is not None and value == value for value in columns["face"]])  # None and NaN are no face
    error = np.array([value is not None and value == value for value in columns["error"]])
    counts, edges = age_histogram(np.asarray(columns["age"], dtype=np.float64)[face])
    per_file: dict[str, int] = {}
    for file, has_face, failed in zip(files, face, error, strict=True):
        if not failed:
            per_file[file] = per_file.get(file, 0) + int(has_face)
    per_photo = {count: sum(1 for value in per_file.values() if value == count) for count in sorted(set(per_file.values()))}
    return CollectionSummary(
        files=len(set(files)),
        faces=int(face.sum()),
        age_edges=edges,
        age_counts=counts,
        shares={
            head: expected_counts(
                np.column_stack([np.asarray(columns[probability_column(label)], dtype=np.float64)[face] for label in labels]), labels, rng
            )
            for head, labels in (("gender", config.genders), ("race", config.races))
        },
        faces_per_photo=per_photo,
        errors=[(str(file), str(message)) for file, message, failed in zip(files, columns["error"], error, strict=True) if failed],
    )


def age_histogram(ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces per age bin, over whole-year bins that span the ages present (none without faces)."""
    if not len(ages):
        return np.zeros(0, int), np.zeros(1)
    edges = np.unique(np.round(np.histogram_bin_edges(ages, bins="auto", range=(np.floor(ages.min()), np.floor(ages.max()) + 1))))
    if len(edges) < 2:
        edges = np.array([np.floor(ages.min()), np.floor(ages.min()) + 1])
    return np.histogram(ages, bins=edges)


def _share_figure(shares: Shares, title: str, height: int) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=shares.labels,
            y=shares.expected,
            error_y={"type": "data", "symmetric": False, "array": shares.high - shares.expected, "arrayminus": shares.expected - shares.low},
            text=[f"{share:.0%}" for share in shares.share],
            hovertemplate="%{x}: %{y:.1f} faces expected<extra></extra>",
        )
    )
    return figure.update_layout(title=title, yaxis_title="expected faces, 95% interval", height=height, margin=MARGIN)


def summary_figures(summary: CollectionSummary, height: int = 360) -> dict[str, go.Figure]:
    """The four charts, by section id: age distribution, gender and race expected counts, faces per photo."""
    edges = summary.age_edges
    ages = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=summary.age_counts,
            width=np.diff(edges),
            customdata=np.column_stack([edges[:-1], edges[1:] - 1]),
            hovertemplate="%{customdata[0]}-%{customdata[1]} years: %{y} faces<extra></extra>",
        )
    )
    ages.update_layout(title="Predicted age", xaxis_title="years", yaxis_title="faces", height=height, margin=MARGIN)
    per_photo = go.Figure(go.Bar(x=[str(count) for count in summary.faces_per_photo], y=list(summary.faces_per_photo.values())))
    per_photo.update_layout(title="Faces per photo", xaxis_title="faces", yaxis_title="photos", height=height, margin=MARGIN)
    per_photo.update_xaxes(type="category")
    return {
        "ages": ages,
        "gender": _share_figure(summary.shares["gender"], "Gender: expected counts", height),
        "race": _share_figure(summary.shares["race"], "Race: expected counts", height),
        "faces-per-photo": per_photo,
    }
