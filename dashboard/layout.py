"""The page: a navbar, a heading and six tabs (``dashboard.tabs``), drawn from the model's artifacts when the app is built.

The tabs are our own markup (WAI-ARIA's tab pattern: buttons in a ``tablist``, each
controlling a ``tabpanel``), switched by ``assets/tabs.js`` with the mouse or the arrow keys:
dash-bootstrap-components' tabs point ``aria-controls`` at panels that do not exist and take
the tabs out of the keyboard's reach.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.constants import class_colours
from dashboard.settings import Settings
from dashboard.tabs.about import about_tab
from dashboard.tabs.batch import batch_tab
from dashboard.tabs.dataset import dataset_tab
from dashboard.tabs.evaluation import evaluation_tab
from dashboard.tabs.predict import predict_tab
from dashboard.tabs.training import training_tab
from model.artifacts import ModelArtifacts

NAVBAR_COLOUR = "#0a58ca"
"""Bootstrap's darker primary: white text on it reads at 6.3:1 (WCAG AA asks 4.5:1)."""
INDEX = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <div>
            {%config%}
            {%scripts%}
            {%renderer%}
        </div>
    </body>
</html>"""
"""Dash's page with the language said and its scripts out of a second ``<footer>`` landmark."""


def tabbed(sections: list[tuple[str, str, html.Div]]) -> html.Div:
    """(key, label, content) of each tab: a tablist of buttons and one panel per tab, the first shown."""
    buttons = [
        html.Button(
            label,
            id=f"tab-{key}",
            type="button",
            role="tab",
            className="nav-link" + (" active" if index == 0 else ""),
            tabIndex="0" if index == 0 else "-1",
            **{"aria-selected": "true" if index == 0 else "false", "aria-controls": f"panel-{key}"},
        )
        for index, (key, label, _) in enumerate(sections)
    ]
    panels = [
        html.Div(content, id=f"panel-{key}", role="tabpanel", tabIndex="0", hidden=index != 0, **{"aria-labelledby": f"tab-{key}"})
        for index, (key, _, content) in enumerate(sections)
    ]
    return html.Div([html.Div(buttons, id="tabs", role="tablist", className="nav nav-tabs", **{"aria-label": "Sections"}), *panels])


def make_layout(artifacts: ModelArtifacts, settings: Settings) -> html.Div:
    """The whole page, built from the model's artifacts (the predictor's, loaded once)."""
    colours = class_colours(artifacts.config)
    sections = [
        ("predict", "Predict", predict_tab()),
        ("batch", "Batch", batch_tab(settings)),
        ("training", "Training", training_tab(artifacts.history)),
        ("evaluation", "Evaluation", evaluation_tab(artifacts.metrics, colours, artifacts.outside)),
        ("dataset", "Dataset", dataset_tab(artifacts.dataset_summary, colours, artifacts.config.training.get("images"))),
        ("about", "About & API", about_tab(artifacts.config)),
    ]
    return dbc.Container(
        [
            html.A("Skip to the content", href="#content", className="visually-hidden-focusable"),
            dbc.NavbarSimple(
                brand="Face2Data",
                color=NAVBAR_COLOUR,
                dark=True,
                className="mb-3",
                children=[dbc.NavItem(dbc.NavLink("API", href="/api/v1/openapi.json", className="text-white"))],
            ),
            html.Main(
                [
                    html.H1("Age, gender and race from a face photo, with the uncertainty and the biases shown.", className="lead mb-3"),
                    tabbed(sections),
                ],
                id="content",
            ),
            html.Footer(html.Small("Face2Data: a research tool. UTKFace is for non-commercial research only."), className="text-body-secondary my-4"),
        ],
        fluid="lg",
    )
