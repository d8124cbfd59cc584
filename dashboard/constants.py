"""Colours and chart settings shared by every chart, so a class looks the same everywhere."""

import plotly.graph_objects as go

from model.config import ModelConfig

PALETTES = {
    "gender": ("#1f77b4", "#d62728"),
    "race": ("#8c6d31", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"),
    "age_group": ("#636efa",),
}
"""Per head, the colours its labels take in config.json's order (repeating if it has more)."""
TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
FACE_BOX_COLOUR = "#00e676"
PLOT_TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "color": "#212529"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#e9ecef", "zerolinecolor": "#dee2e6", "automargin": True},
        "yaxis": {"gridcolor": "#e9ecef", "zerolinecolor": "#dee2e6", "automargin": True},
    }
)
"""A deliberately small template: Plotly deep-copies the template into every figure, and the
built-in ``plotly_white`` made each figure cost ~14 ms instead of ~3 ms (a face card has three)."""
TRAINING_CURVES = (
    # (title, history column, higher is better, y-axis format)
    ("Gender accuracy", "gender_accuracy", True, ".1%"),
    ("Race accuracy", "race_accuracy", True, ".1%"),
    ("Age MAE (years)", "age_mae", False, ".2f"),
    ("Overall loss", "loss", False, ".3f"),
)
AGE_BAND_CHARTS = (
    # (metrics.json by_age_band column, title, y-axis format): where in life each head is weak
    ("age_mae", "Age MAE per age band (years)", ".1f"),
    ("gender_accuracy", "Gender accuracy per age band", ".1%"),
    ("race_accuracy", "Race accuracy per age band", ".1%"),
)


def class_colours(config: ModelConfig) -> dict[str, dict[str, str]]:
    """Per head (gender, race, age group), each of the model's labels with its colour."""
    return {
        head: {label: PALETTES[head][index % len(PALETTES[head])] for index, label in enumerate(labels)} for head, labels in config.labels.items()
    }
