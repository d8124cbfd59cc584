"""The Training tab: the shipped network's curves, read from ``history.csv``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.alt_text import curve_text
from dashboard.components import graph
from dashboard.constants import TRAINING_CURVES
from dashboard.figures import training_curve


def training_tab(history: dict[str, list[float]]) -> html.Div:
    """Four curves, train against validation; an empty history (no training yet) says so."""
    if not history:
        return dbc.Alert("No history.csv next to the model: run `make train`.", color="warning", className="mt-3")
    graphs = [
        dbc.Col(
            graph(
                training_curve(history, column, title, higher, tick),
                curve_text(history, column, title, higher, tick),
                graph_id=f"training-{column.replace('_', '-')}",
                className="training-graph",
            ),
            lg=6,
        )
        for title, column, higher, tick in TRAINING_CURVES
    ]
    intro = "Train and validation curves of the shipped model, one point per epoch. The star marks each curve's best validation epoch; the train curve is dotted."
    return html.Div([html.P(intro, className="mt-3"), dbc.Row(graphs, className="g-3")])
