"""Pure functions: data in, ``go.Figure`` out. No I/O, no Dash, easy to test."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from PIL import Image

from dashboard.constants import FACE_BOX_COLOUR, PLOT_TEMPLATE, TRAIN_COLOUR, VALIDATION_COLOUR
from model.decode import photo_size

pio.templates["face2data"] = PLOT_TEMPLATE
pio.templates.default = "face2data"  # applied when each figure is created, so no other template is copied first

DISPLAY_MAX_SIDE = 1024
"""The photo is shown at most this large: enough for the screen, small enough to send fast."""


def image_data_uri(image: Image.Image, max_side: int = DISPLAY_MAX_SIDE) -> str:
    """A JPEG data URI of ``image`` (downscaled to ``max_side``), for figures and <img> tags."""
    if max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_data_uri(image: Image.Image) -> str:
    """A lossless PNG data URI: for pixels that must come back exactly (face crops to explain)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _compact(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 36, "b": 10})
    return figure


def photo_figure(image: Image.Image, boxes: list[list[float]]) -> go.Figure:
    """The photo with a numbered box on every face (boxes are ``[x, y, w, h]`` in photo pixels)."""
    figure = go.Figure()
    width, height = photo_size(image)
    figure.add_layout_image(source=image_data_uri(image), x=0, y=0, sizex=width, sizey=height, xref="x", yref="y", layer="below", sizing="stretch")
    for number, (left, top, box_width, box_height) in enumerate(boxes, start=1):
        figure.add_shape(type="rect", x0=left, y0=top, x1=left + box_width, y1=top + box_height, line={"color": FACE_BOX_COLOUR, "width": 3})
        figure.add_annotation(
            x=left,
            y=top,
            text=f"<b>{number}</b>",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"color": "black", "size": 14},
            bgcolor=FACE_BOX_COLOUR,
        )
    figure.add_trace(go.Scatter(x=[0, width], y=[0, height], mode="markers", marker={"opacity": 0}, hoverinfo="skip", showlegend=False))
    figure.update_xaxes(visible=False, range=[0, width])
    figure.update_yaxes(visible=False, range=[height, 0], scaleanchor="x")
    figure.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=min(560, max(260, 520 * height // width)))
    return figure


def probability_bars(probabilities: dict[str, float], colours: dict[str, str], title: str, sort: bool = True) -> go.Figure:
    """Horizontal bars of class probabilities, labelled in percent, most likely on top."""
    items = sorted(probabilities.items(), key=lambda item: item[1]) if sort else list(probabilities.items())[::-1]
    labels = [label for label, _ in items]
    values = [value for _, value in items]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=[colours.get(label, "#636efa") for label in labels],
            text=[f"{value:.0%}" for value in values],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_layout(title={"text": title, "font": {"size": 14}})
    return _compact(figure, 60 + 26 * len(labels))


def training_curve(history: dict[str, list[float]], column: str, title: str, higher_is_better: bool, tick_format: str) -> go.Figure:
    """Train and validation values of one metric per epoch, with the best validation epoch marked.

    ``history`` maps each ``history.csv`` column to its values; epochs are shown from 1.
    """
    epochs = [int(epoch) + 1 for epoch in history["epoch"]]
    validation = history[f"val_{column}"]
    best = int(np.argmax(validation) if higher_is_better else np.argmin(validation))
    figure = go.Figure(
        [
            go.Scatter(x=epochs, y=history[column], name="train", mode="lines", line={"color": TRAIN_COLOUR, "dash": "dot"}),
            go.Scatter(x=epochs, y=validation, name="validation", mode="lines", line={"color": VALIDATION_COLOUR}),
            go.Scatter(
                x=[epochs[best]],
                y=[validation[best]],
                name=f"best (epoch {epochs[best]})",
                mode="markers",
                marker={"color": VALIDATION_COLOUR, "size": 12, "symbol": "star", "line": {"color": "black", "width": 1}},
            ),
        ]
    )
    figure.update_yaxes(tickformat=tick_format)
    figure.update_xaxes(title="epoch")
    figure.update_layout(title=title, hovermode="x unified", legend={"orientation": "h", "y": -0.25})
    return _compact(figure, 340)


def confusion_figure(matrix: list[list[int]], labels: list[str], title: str) -> go.Figure:
    """Confusion matrix as a heatmap of row-normalised rates, with counts on hover."""
    counts = np.asarray(matrix)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure = go.Figure(
        go.Heatmap(
            z=rates,
            x=labels,
            y=labels,
            customdata=counts,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=[[f"{rate:.0%}" for rate in row] for row in rates],
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{customdata} faces<extra></extra>",
            colorbar={"tickformat": ".0%"},
        )
    )
    figure.update_xaxes(title="predicted")
    figure.update_yaxes(title="true", autorange="reversed")
    figure.update_layout(title=title)
    return _compact(figure, 360)


def reliability_figure(before: list[dict], after: list[dict], title: str) -> go.Figure:
    """Reliability diagram: accuracy against confidence per bin, before and after calibration.

    A calibrated head lies on the diagonal; marker size shows how many faces a bin holds.
    """
    figure = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#999"}, name="perfect", hoverinfo="skip"))
    for name, rows, colour, dash, symbol in (
        ("raw", before, TRAIN_COLOUR, "dash", "circle"),
        ("calibrated", after, VALIDATION_COLOUR, "solid", "diamond"),
    ):
        counts = np.array([row["n"] for row in rows], float)
        figure.add_trace(
            go.Scatter(
                x=[row["confidence"] for row in rows],
                y=[row["accuracy"] for row in rows],
                mode="lines+markers",
                name=name,
                line={"color": colour, "dash": dash},
                marker={"size": 5 + 15 * np.sqrt(counts / max(counts.max(), 1)), "symbol": symbol},
                customdata=counts,
                hovertemplate="confidence %{x:.1%}: right %{y:.1%} of %{customdata} faces<extra>" + name + "</extra>",
            )
        )
    figure.update_xaxes(title="confidence of the top label", tickformat=".0%", range=[0, 1.02])
    figure.update_yaxes(title="accuracy", tickformat=".0%", range=[0, 1.02])
    figure.update_layout(title=title, legend={"orientation": "h", "y": -0.25})
    return _compact(figure, 360)


def group_bars(values: dict[str, float], colours: dict[str, str], title: str, tick_format: str) -> go.Figure:
    """Vertical bars of one figure per group (accuracy per race, MAE per age band...)."""
    labels = list(values)
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=[values[label] for label in labels],
            marker_color=[colours.get(label, "#636efa") for label in labels],
            texttemplate=f"%{{y:{tick_format}}}",
            textposition="auto",
        )
    )
    figure.update_yaxes(tickformat=tick_format)
    figure.update_layout(title=title)
    return _compact(figure, 320)


def age_histogram(counts: dict[str, int]) -> go.Figure:
    """Images per year of age."""
    figure = go.Figure(
        go.Bar(x=[int(age) for age in counts], y=list(counts.values()), marker_color="#636efa", hovertemplate="age %{x}: %{y} images<extra></extra>")
    )
    figure.update_xaxes(title="age (years)")
    figure.update_yaxes(title="images")
    figure.update_layout(title="Age distribution")
    return _compact(figure, 320)


def shares_pie(counts: dict[str, int], colours: dict[str, str], title: str) -> go.Figure:
    """Share of each class, as a donut."""
    labels = list(counts)
    figure = go.Figure(
        go.Pie(labels=labels, values=list(counts.values()), hole=0.45, marker={"colors": [colours[label] for label in labels]}, sort=False)
    )
    figure.update_layout(title=title)
    return _compact(figure, 320)


def race_by_gender_bars(table: dict[str, dict[str, int]], colours: dict[str, str]) -> go.Figure:
    """Images per race, split by gender (grouped bars)."""
    races = list(table)
    genders = list(next(iter(table.values())))
    figure = go.Figure([go.Bar(name=gender, x=races, y=[table[race][gender] for race in races], marker_color=colours[gender]) for gender in genders])
    figure.update_layout(title="Race x gender", barmode="group")
    return _compact(figure, 320)
