"""The page: a navbar and six tabs (``dashboard.tabs``), drawn from the model's artifacts when the app is built."""

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


def make_layout(artifacts: ModelArtifacts, settings: Settings) -> dbc.Container:
    """The whole page, built from the model's artifacts (the predictor's, loaded once)."""
    colours = class_colours(artifacts.config)
    return dbc.Container(
        [
            dbc.NavbarSimple(
                brand="Face2Data",
                color="primary",
                dark=True,
                className="mb-3",
                children=[dbc.NavItem(dbc.NavLink("API", href="/api/v1/openapi.json"))],
            ),
            html.P("Age, gender and race from a face photo, with the uncertainty and the biases shown.", className="lead"),
            dbc.Tabs(
                [
                    dbc.Tab(predict_tab(), label="Predict", tab_id="tab-predict"),
                    dbc.Tab(batch_tab(settings), label="Batch", tab_id="tab-batch"),
                    dbc.Tab(training_tab(artifacts.history), label="Training", tab_id="tab-training"),
                    dbc.Tab(evaluation_tab(artifacts.metrics, colours), label="Evaluation", tab_id="tab-evaluation"),
                    dbc.Tab(dataset_tab(artifacts.dataset_summary, colours), label="Dataset", tab_id="tab-dataset"),
                    dbc.Tab(about_tab(artifacts.config), label="About & API", tab_id="tab-about"),
                ],
                id="tabs",
                active_tab="tab-predict",
            ),
            html.Footer(html.Small("Face2Data: a research tool. UTKFace is for non-commercial research only."), className="text-muted my-4"),
        ],
        fluid="lg",
    )
