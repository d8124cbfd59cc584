"""Functions that return dbc pieces of the page; each takes plain data."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.alt_text import probabilities_text
from dashboard.figures import image_data_uri, probability_bars
from model.predictor import FacePrediction

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
"""What the page loads (Bootstrap, scripts, samples): served by the app itself, never a CDN."""
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def graph(figure, description: str, graph_id: str | None = None, **kwargs) -> html.Figure:
    """A Plotly graph without the mode bar (cleaner on phones), as tall as its figure, with its
    text alternative (``dashboard.alt_text``) in a caption that only screen readers show."""
    style = {"height": f"{figure.layout.height}px"} if figure.layout.height else {}
    chart = dcc.Graph(figure=figure, config=GRAPH_CONFIG, style=style, **({"id": graph_id} if graph_id else {}), **kwargs)
    return html.Figure([chart, html.Figcaption(description, className="visually-hidden")], className="chart m-0")


def upload_zone(upload_id: str, prompt: str, note: str, **kwargs) -> dcc.Upload:
    """A drop zone that also opens the file picker; ``kwargs`` go to ``dcc.Upload`` (accept, multiple).

    Its file input is the keyboard's way in (Tab to it, Enter or Space opens the picker);
    ``assets/a11y.js`` names it by the prompt (``<id>-prompt``), which ``dcc.Upload`` cannot.
    """
    return dcc.Upload(
        id=upload_id,
        children=html.Div(
            [
                prompt,
                html.Span("click to browse", className="link-primary text-decoration-underline"),
                html.Div(note, className="small text-body-secondary"),
            ],
            id=f"{upload_id}-prompt",
        ),
        className="upload-zone",
        **kwargs,
    )


def face_card(number: int, face: FacePrediction, colours: dict[str, dict[str, str]]) -> dbc.Card:
    """One face: the aligned crop, the age with its 80% range, and three probability charts (``colours``: ``class_colours``)."""
    low, high = face.age_range
    note = [] if face.detected else [html.Small("No face detected: the whole image was read as one face.", className="text-warning d-block")]
    return dbc.Card(
        [
            dbc.CardHeader(html.H2(f"Face {number}", className="h5 mb-0")),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                html.Img(src=image_data_uri(face.crop, 200), className="img-fluid rounded face-crop", alt=f"aligned face {number}"),
                                width=5,
                            ),
                            dbc.Col(
                                [
                                    html.Div("Predicted age", className="text-muted small"),
                                    html.Div(f"{face.age:.0f}", className="display-5 fw-bold face-age"),
                                    html.Div(f"80% range: {low}-{high} years", className="small"),
                                    *note,
                                ],
                                width=7,
                            ),
                        ],
                        className="align-items-center mb-2",
                    ),
                    graph(
                        probability_bars(face.gender, colours["gender"], "Gender"),
                        probabilities_text("Gender", face.gender),
                        className="gender-chart",
                    ),
                    graph(probability_bars(face.race, colours["race"], "Race"), probabilities_text("Race", face.race), className="race-chart"),
                    graph(
                        probability_bars(face.age_groups, colours["age_group"], "Age group", sort=False),
                        probabilities_text("Age group", face.age_groups),
                        className="age-chart",
                    ),
                    explain_controls(number - 1),
                ]
            ),
        ],
        className="shadow-sm face-card",
    )


def explain_controls(index: int) -> html.Div:
    """Pick an output and ask which parts of the face drove it (computed on demand, cancellable).

    The token names this card's explanation on the server (``dashboard.inflight``): a new one
    for every card drawn, so no two pages share one.
    """
    target = {"type": "explain-target", "index": index}
    return html.Div(
        [
            html.Label("Output to explain", htmlFor=json.dumps(target, sort_keys=True, separators=(",", ":")), className="visually-hidden"),
            dbc.InputGroup(
                [
                    dbc.Select(
                        id=target,
                        options=[
                            {"label": "Explain gender", "value": "gender"},
                            {"label": "Explain race", "value": "race"},
                            {"label": "Explain age", "value": "age"},
                        ],
                        value="gender",
                    ),
                    dbc.Button("Explain", id={"type": "explain-button", "index": index}, color="primary", className="explain-button"),
                    dbc.Button(
                        "Cancel",
                        id={"type": "explain-cancel", "index": index},
                        color="secondary",
                        outline=True,
                        className="explain-cancel",
                        style={"display": "none"},
                    ),
                ],
                size="sm",
            ),
            dcc.Store(id={"type": "explain-token", "index": index}, data=uuid.uuid4().hex),
            dcc.Loading(html.Div(id={"type": "explain-output", "index": index}, className="mt-2"), type="dot"),
        ],
        className="mt-2",
    )


def explanation_view(overlay_uri: str, label: str, target: str) -> html.Div:
    """The attribution overlay with its colour bar and one sentence on how to read it."""
    what = "the predicted age" if target == "age" else f"the probability of '{label}'"
    return html.Div(
        [
            html.Img(src=overlay_uri, className="img-fluid rounded explain-overlay", alt=f"which regions drove {what}"),
            html.Div(className="explain-colour-bar mt-1"),
            html.Div([html.Span("lowers it", className="small"), html.Span("raises it", className="small float-end")], className="explain-scale"),
            html.P(
                f"Red regions pushed {what} up, blue regions pushed it down; the stronger the colour, the larger the effect. "
                "It shows where the model looked, not whether it was right.",
                className="small text-muted mb-0",
            ),
        ]
    )


def stat_card(title: str, value: str, note: str) -> dbc.Card:
    """A headline number with its caption."""
    return dbc.Card(
        dbc.CardBody([html.Div(title, className="text-muted small"), html.Div(value, className="fs-2 fw-bold"), html.Div(note, className="small")]),
        className="shadow-sm h-100",
    )


def alert(message: str, colour: str = "danger") -> dbc.Alert:
    """A dismissable, friendly message."""
    return dbc.Alert(message, color=colour, dismissable=True, className="upload-alert")
