"""What a collection is made of, from the batch table, with honest uncertainty.

Gender and race shares are **expected counts**: the sum over faces of each calibrated
probability, not a count of argmax labels (which over-counts the majority class whenever the
model hesitates). Their 95% intervals come from a Poisson bootstrap over faces: they say how
much the figure would move with another sample of such faces, not how wrong the model is.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

BOOTSTRAP_DRAWS = 1000
AGE_BIN_YEARS = 5


@dataclass
class CollectionSummary:
    files: int
    faces: int
    ages: pd.Series
    """Faces per age bin (``"0-4"``, ``"5-9"``, ...)."""
    shares: dict[str, pd.DataFrame]
    """Per head (gender, race): expected count, share, and the 95% interval of each, per class."""
    faces_per_photo: pd.Series
    """Photos (read without error) by their number of faces."""
    errors: pd.DataFrame
    """``file`` and ``error`` of every photo that could not be read."""


def read_table(out: Path) -> pd.DataFrame:
    """The whole batch table: every complete part under ``out``."""
    return pd.read_parquet(out)


def expected_counts(probabilities: pd.DataFrame, rng: np.random.Generator, draws: int = BOOTSTRAP_DRAWS) -> pd.DataFrame:
    """Sum of each column's probabilities, with 2.5% and 97.5% Poisson-bootstrap quantiles over rows."""
    values = probabilities.to_numpy(dtype=np.float64)
    sums = np.stack([rng.poisson(1.0, len(values)) @ values for _ in range(draws)]) if len(values) else np.zeros((1, values.shape[1]))
    low, high = np.percentile(sums, [2.5, 97.5], axis=0)
    total = values.sum()
    frame = pd.DataFrame({"expected": values.sum(axis=0), "low": low, "high": high}, index=[column.removeprefix("p_") for column in probabilities])
    frame["share"] = frame["expected"] / total if total else 0.0
    return frame


def summarise(table: pd.DataFrame, genders: list[str], races: list[str], seed: int = 0) -> CollectionSummary:
    """The four summaries of a batch table (see the module docstring for what the shares mean)."""
    rng = np.random.default_rng(seed)
    faces = table[table["face"].notna()]
    errors = table.loc[table["error"].notna(), ["file", "error"]].reset_index(drop=True)
    readable = table[table["error"].isna()]
    per_photo = readable.groupby("file")["face"].count().value_counts().sort_index()
    bins = np.arange(0, 120 + AGE_BIN_YEARS, AGE_BIN_YEARS)
    labels = [f"{start}-{start + AGE_BIN_YEARS - 1}" for start in bins[:-1]]
    ages = pd.cut(faces["age"], bins, right=False, labels=labels).value_counts().reindex(labels, fill_value=0)
    shares = {
        "gender": expected_counts(faces[[f"p_{label}" for label in genders]], rng),
        "race": expected_counts(faces[[f"p_{label}" for label in races]], rng),
    }
    return CollectionSummary(table["file"].nunique(), len(faces), ages, shares, per_photo.rename_axis("faces"), errors)


def _share_figure(frame: pd.DataFrame, title: str) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=frame.index,
            y=frame["expected"],
            error_y={"type": "data", "symmetric": False, "array": frame["high"] - frame["expected"], "arrayminus": frame["expected"] - frame["low"]},
            text=[f"{share:.1%}" for share in frame["share"]],
            hovertemplate="%{x}: %{y:.1f} faces expected<extra></extra>",
        )
    )
    return figure.update_layout(title=title, yaxis_title="expected faces (95% interval)", height=360)


def figures(summary: CollectionSummary) -> dict[str, go.Figure]:
    """The report's charts, by section id."""
    ages = go.Figure(go.Bar(x=summary.ages.index.astype(str), y=summary.ages.to_numpy()))
    ages.update_layout(title="Age distribution (predicted age)", xaxis_title="years", yaxis_title="faces", height=360)
    per_photo = go.Figure(go.Bar(x=summary.faces_per_photo.index.astype(str), y=summary.faces_per_photo.to_numpy()))
    per_photo.update_layout(title="Faces per photo", xaxis_title="faces", yaxis_title="photos", height=360)
    return {
        "ages": ages,
        "gender": _share_figure(summary.shares["gender"], "Gender: expected counts"),
        "race": _share_figure(summary.shares["race"], "Race: expected counts"),
        "faces-per-photo": per_photo,
    }


def report_html(summary: CollectionSummary) -> str:
    """A self-contained page: plotly.js is inlined once, nothing is fetched from the network."""
    sections = []
    for index, (section, figure) in enumerate(figures(summary).items()):
        sections.append(f'<section id="{section}">{pio.to_html(figure, full_html=False, include_plotlyjs=index == 0)}</section>')
    tables = "".join(
        f"<h2>{head.title()} shares</h2>{frame.round({'expected': 1, 'low': 1, 'high': 1, 'share': 3}).to_html(classes='shares')}"
        for head, frame in summary.shares.items()
    )
    error_rows = "".join(f"<tr><td>{html.escape(row.file)}</td><td>{html.escape(row.error)}</td></tr>" for row in summary.errors.itertuples())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Face2Data collection report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 8px}}</style>
</head><body>
<h1>Face2Data collection report</h1>
<p>{summary.files} files, {summary.faces} faces, {len(summary.errors)} errors. Gender and race are expected counts (sums of calibrated
probabilities) with 95% bootstrap intervals over faces; they describe what the model reads, with its biases (see the model card),
not what the people are. UTKFace-trained model: non-commercial research use only.</p>
{"".join(sections)}
{tables}
<section id="errors"><h2>Errors</h2><table><tr><th>file</th><th>error</th></tr>{error_rows}</table></section>
</body></html>
"""


def write_report(out: Path, path: Path, genders: tuple[str, ...], races: tuple[str, ...]) -> CollectionSummary:
    """Summarise the table under ``out`` into the HTML page ``path``; the labels are the model's (``config.json``)."""
    summary = summarise(read_table(out), list(genders), list(races))
    Path(path).write_text(report_html(summary))
    return summary
