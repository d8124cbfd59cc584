"""What a collection is made of, from its batch rows, with honest uncertainty (numpy and plotly only).

Per head (gender, race, age group) two estimates of the collection's shares:

- **expected**: the mean calibrated probability, with a bootstrap over the faces. Biased
  wherever the model confuses classes, and the bias does not shrink as the collection grows.
- **adjusted**: corrected for the confusions measured on val (``model.batch.quantify``), with a
  bootstrap over the faces and over val. It assumes the model confuses classes in the
  collection as it did on UTKFace val; it is what the report and the Batch tab show first.

``faces="largest"`` counts one face per photo, the largest: what a dataset of portraits needs,
where bystanders are not the subject. Shared by the HTML report (``model.batch.report``), the
``--summary`` JSON and the dashboard's Batch tab.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from model.batch.quantify import ADJUSTMENTS, Estimate, Reference, adjusted_shares, expected_shares
from model.batch.rows import probability_column
from model.config import ModelConfig

BOOTSTRAP_DRAWS = 400
FACES_COUNTED = ("all", "largest")
MARGIN = {"l": 50, "r": 10, "t": 40, "b": 40}
ASSUMPTION = (
    "Adjusted shares correct for the model's known confusions, assuming it confuses classes in this collection as it did on "
    "UTKFace val; expected counts are the plain sums of calibrated probabilities. Both describe what the model reads, not who the people are."
)


@dataclass(frozen=True)
class HeadShares:
    labels: tuple[str, ...]
    expected: Estimate
    adjusted: Estimate | None
    """None when the model folder has no val reference (``val_outputs.npz``) to fit the correction on."""
    adjustment: str | None
    """The correction applied (``quantify.ADJUSTMENTS``); None: the adjusted shares are the expected ones."""

    def shown(self) -> list[tuple[str, Estimate]]:
        """What a chart or a table shows, first to last: the adjusted shares when a correction was applied, then the expected counts."""
        adjusted = [("adjusted", self.adjusted)] if self.adjusted is not None and self.adjustment else []
        return [*adjusted, ("expected", self.expected)]


@dataclass(frozen=True)
class CollectionSummary:
    files: int
    faces: int
    faces_counted: str
    age_edges: np.ndarray
    """Whole-year edges of the age histogram's bins, spanning the ages present (numpy's ``auto`` rule)."""
    age_counts: np.ndarray
    heads: dict[str, HeadShares]
    faces_per_photo: dict[int, int]
    """Photos read without error, by their number of faces."""
    errors: list[tuple[str, str]]
    """(file, message) of every file that could not be read."""

    def to_dict(self) -> dict:
        """The ``--summary`` JSON: shares as fractions, labels in the model's order."""
        return {
            "photos": self.files,
            "faces": self.faces,
            "errors": len(self.errors),
            "faces_counted": self.faces_counted,
            "heads": {
                head: {
                    "labels": list(shares.labels),
                    "expected": shares.expected.to_dict(),
                    **({"adjusted": shares.adjusted.to_dict(), "adjustment": shares.adjustment or "none"} if shares.adjusted else {}),
                }
                for head, shares in self.heads.items()
            },
        }


def _present(values) -> np.ndarray:
    return np.array([value is not None and value == value for value in values])  # None and NaN are absent


def counted_faces(columns: dict, faces: str) -> np.ndarray:
    """Which rows are counted: every face, or the largest face (by box area) of each photo."""
    if faces not in FACES_COUNTED:
        raise ValueError(f"faces must be one of {', '.join(FACES_COUNTED)}, got {faces!r}")
    face = _present(columns["face"])
    if faces == "all":
        return face
    areas = np.array([float(box[2]) * float(box[3]) if has and box is not None else -1.0 for box, has in zip(columns["box"], face, strict=True)])
    largest = np.zeros(len(face), bool)
    best: dict[str, int] = {}
    for row, file in enumerate(columns["file"]):
        if face[row] and (file not in best or areas[row] > areas[best[file]]):
            best[file] = row
    largest[list(best.values())] = True
    return largest


def age_histogram(ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces per age bin, over whole-year bins that span the ages present (none without faces)."""
    if not len(ages):
        return np.zeros(0, int), np.zeros(1)
    edges = np.unique(np.round(np.histogram_bin_edges(ages, bins="auto", range=(np.floor(ages.min()), np.floor(ages.max()) + 1))))
    if len(edges) < 2:
        edges = np.array([np.floor(ages.min()), np.floor(ages.min()) + 1])
    return np.histogram(ages, bins=edges)


def summarise(
    columns: dict, config: ModelConfig, references: dict[str, Reference], faces: str = "all", seed: int = 0, draws: int = BOOTSTRAP_DRAWS
) -> CollectionSummary:
    """The summaries of a batch table given as columns (``file``, ``face``, ``box``, ``age``, ``error``, ``p_<label>``)."""
    rng = np.random.default_rng(seed)
    files = np.asarray(columns["file"], dtype=object)
    face, error = _present(columns["face"]), _present(columns["error"])
    counted = counted_faces(columns, faces)
    counts, edges = age_histogram(np.asarray(columns["age"], dtype=np.float64)[counted])
    per_file: dict[str, int] = {}
    for file, has_face, failed in zip(files, face, error, strict=True):
        if not failed:
            per_file[file] = per_file.get(file, 0) + int(has_face)
    heads = {}
    for head, labels in config.labels.items():
        probabilities = np.column_stack([np.asarray(columns[probability_column(label)], dtype=np.float64)[counted] for label in labels])
        expected, method = expected_shares(probabilities, rng, draws), ADJUSTMENTS.get(head)
        if head not in references or not len(probabilities):
            adjusted = None
        else:
            adjusted = adjusted_shares(probabilities, references[head], rng, draws, method) if method else expected
        heads[head] = HeadShares(labels, expected, adjusted, method)
    return CollectionSummary(
        files=len(set(files)),
        faces=int(counted.sum()),
        faces_counted=faces,
        age_edges=edges,
        age_counts=counts,
        heads=heads,
        faces_per_photo={count: sum(1 for value in per_file.values() if value == count) for count in sorted(set(per_file.values()))},
        errors=[(str(file), str(message)) for file, message, failed in zip(files, columns["error"], error, strict=True) if failed],
    )


def _share_figure(head: str, shares: HeadShares, height: int) -> go.Figure:
    """Adjusted shares (when there is a reference) with the expected counts beside, each with its 95% interval."""
    figure = go.Figure()
    shown = shares.shown()
    for name, estimate in shown:
        figure.add_trace(
            go.Bar(
                name=name,
                x=list(shares.labels),
                y=estimate.share,
                error_y={"type": "data", "symmetric": False, "array": estimate.high - estimate.share, "arrayminus": estimate.share - estimate.low},
                hovertemplate="%{x}: %{y:.1%} (" + name + ")<extra></extra>",
                opacity=1.0 if name == "adjusted" else 0.55,
            )
        )
    title = f"{head.replace('_', ' ').capitalize()}: {'adjusted shares, expected beside' if len(shown) > 1 else 'expected shares'}"
    figure.update_yaxes(tickformat=".0%", title="share of faces, 95% interval")
    return figure.update_layout(title=title, barmode="group", height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.2})


def summary_figures(summary: CollectionSummary, height: int = 360) -> dict[str, go.Figure]:
    """The charts, by section id: age distribution, each head's shares, faces per photo."""
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
    shares = {head.replace("_", "-"): _share_figure(head, head_shares, height) for head, head_shares in summary.heads.items()}
    return {"ages": ages, **shares, "faces-per-photo": per_photo}
