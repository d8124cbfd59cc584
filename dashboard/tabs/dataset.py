"""The Dataset tab: what the model was trained on, from ``dataset.json``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.alt_text import age_counts_text, counts_text, table_by_group_text
from dashboard.components import graph
from dashboard.figures import age_histogram, race_by_gender_bars, shares_pie


def dataset_tab(summary: dict, colours: dict[str, dict[str, str]], trained_on: dict | None = None) -> html.Div:
    """``trained_on`` is config.json's ``training.images``: how many faces of each source training read."""
    if not summary:
        return dbc.Alert("No dataset.json next to the model: run `make dataset-summary`.", color="warning", className="mt-3")
    splits = summary["splits"]
    return html.Div(
        [
            html.P(
                f"UTKFace: {summary['n_images']:,} labelled faces, split {splits['train']:,} train / {splits['val']:,} val / {splits['test']:,} test.",
                className="mt-3",
            ),
            dbc.Row(
                [
                    dbc.Col(graph(age_histogram(summary["age"]), age_counts_text(summary["age"], "images")), lg=12),
                    dbc.Col(
                        graph(shares_pie(summary["gender"], colours["gender"], "Gender"), counts_text("Gender", summary["gender"], "images")), lg=4
                    ),
                    dbc.Col(graph(shares_pie(summary["race"], colours["race"], "Race"), counts_text("Race", summary["race"], "images")), lg=4),
                    dbc.Col(
                        graph(race_by_gender_bars(summary["race_by_gender"], colours["gender"]), table_by_group_text(summary["race_by_gender"])), lg=4
                    ),
                ],
                className="g-3",
            ),
            *(
                [
                    html.P(
                        f"Gender also learned from {trained_on['lag_train']:,} web photos of children and adults: the train identities of LAG (Large Age-Gap)."
                    )
                ]
                if trained_on and trained_on.get("lag_train")
                else []
            ),
            html.P(
                "UTKFace and LAG are available for non-commercial research purposes only; the copyright of the images stays with their owners.",
                className="small text-muted mt-2",
            ),
        ]
    )
