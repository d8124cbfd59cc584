"""Words for every chart: what a screen reader says instead of the picture.

Each function says what one kind of figure shows, from the same data the figure is drawn
from: for bars the top values, for a training curve its best epoch, for a confusion matrix the
recall of each class. ``components.graph`` puts the sentence in a visually hidden caption.
"""

from __future__ import annotations

import numpy as np

from model.batch.summary import CollectionSummary


def percent(value: float) -> str:
    return f"{value:.0%}"


def probabilities_text(title: str, probabilities: dict[str, float]) -> str:
    """``Gender: female 97%, male 3%.``, most likely first."""
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])
    return f"{title}: " + ", ".join(f"{label} {percent(value)}" for label, value in ranked) + "."


def photo_text(faces: int) -> str:
    return f"The photo with {faces} numbered face box{'es' if faces != 1 else ''}, in the order of the cards below."


def curve_text(history: dict[str, list[float]], column: str, title: str, higher_is_better: bool, tick_format: str) -> str:
    """``Gender accuracy per epoch: best validation 95.5% at epoch 16 of 16; train 98.1% then.``"""
    validation = history[f"val_{column}"]
    best = int(np.argmax(validation) if higher_is_better else np.argmin(validation))
    value = f"{{:{tick_format}}}".format
    return (
        f"{title} per epoch: best validation {value(validation[best])} at epoch {int(history['epoch'][best]) + 1} of {len(validation)}; "
        f"train {value(history[column][best])} then."
    )


def confusion_text(matrix: list[list[int]], labels: list[str], title: str) -> str:
    """Per true class, the share read right (recall), and the most frequent wrong reading."""
    counts = np.asarray(matrix, dtype=float)
    parts = []
    for index, label in enumerate(labels):
        row = counts[index]
        wrong = np.where(np.arange(len(labels)) == index, -1, row)
        mistaken = f", most often mistaken for {labels[int(np.argmax(wrong))]}" if wrong.max() > 0 else ""
        parts.append(f"{label} read right {percent(row[index] / max(row.sum(), 1))}{mistaken}")
    return f"{title}, recall per true class: " + "; ".join(parts) + "."


def reliability_text(head: str, before: float, after: float) -> str:
    return (
        f"{head.capitalize()} reliability diagram: accuracy against confidence; expected calibration error {before:.3f} raw "
        f"(dashed line, circles) and {after:.3f} calibrated (solid line, diamonds)."
    )


def values_text(title: str, values: dict[str, float], tick_format: str) -> str:
    return f"{title}: " + ", ".join(f"{label} {value:{tick_format}}" for label, value in values.items()) + "."


def counts_text(title: str, counts: dict[str, int], unit: str) -> str:
    total = sum(counts.values())
    return f"{title}, {total:,} {unit}: " + ", ".join(f"{label} {count:,} ({count / max(total, 1):.0%})" for label, count in counts.items()) + "."


def age_counts_text(counts: dict[str, int], unit: str) -> str:
    """An age histogram: how many, the range, the most common age."""
    ages = {int(age): count for age, count in counts.items() if count}
    if not ages:
        return f"Age distribution: no {unit}."
    peak = max(ages, key=ages.get)
    return f"Age distribution of {sum(ages.values()):,} {unit}, from {min(ages)} to {max(ages)} years; most at {peak} ({ages[peak]:,})."


def table_by_group_text(table: dict[str, dict[str, int]]) -> str:
    return (
        "Race by gender: "
        + "; ".join(f"{race} " + ", ".join(f"{gender} {count:,}" for gender, count in row.items()) for race, row in table.items())
        + "."
    )


def summary_texts(summary: CollectionSummary) -> dict[str, str]:
    """The Batch tab's charts (``summary_figures``'s sections) in words."""
    edges = summary.age_edges
    span = f", from {edges[0]:.0f} to {edges[-1] - 1:.0f} years" if summary.faces else ""
    texts = {"ages": f"Predicted age of {summary.faces} faces{span}."}
    for head, shares in summary.heads.items():
        shown = shares.shown()
        name, first = shown[0]
        beside = dict(shown[1:])
        parts = []
        for index, label in enumerate(shares.labels):
            text = f"{label} {percent(first.share[index])} ({percent(first.low[index])} to {percent(first.high[index])})"
            if "expected" in beside:
                text += f", expected {percent(beside['expected'].share[index])}"
            parts.append(text)
        texts[head.replace("_", "-")] = f"{head.replace('_', ' ').capitalize()}, {name} shares with 95% intervals: " + "; ".join(parts) + "."
    per_photo = ", ".join(
        f"{photos} photo{'s' if photos != 1 else ''} with {faces} face{'s' if faces != 1 else ''}"
        for faces, photos in summary.faces_per_photo.items()
    )
    texts["faces-per-photo"] = f"Faces per photo: {per_photo or 'no photo read'}."
    return texts
