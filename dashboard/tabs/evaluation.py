"""The Evaluation tab: the shipped model on the test split, from ``metrics.json``, with its biases stated."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.alt_text import confusion_text, reliability_text, values_text
from dashboard.components import graph, stat_card
from dashboard.constants import AGE_BAND_CHARTS
from dashboard.figures import confusion_figure, group_bars, reliability_figure


def metric_bars(groups: dict[str, dict], column: str, colours: dict[str, str], title: str, tick_format: str) -> dbc.Col:
    """One figure of metrics.json's per-group rows (per race, gender or age band) as a bar per group, a third of the tab wide."""
    values = {name: row[column] for name, row in groups.items()}
    return dbc.Col(graph(group_bars(values, colours, title, tick_format), values_text(title, values, tick_format)), lg=4)


def headline(metrics: dict) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(stat_card("Age MAE", f"{metrics['age_mae']:.2f} years", f"{metrics['age_within_5_years']:.0%} within 5 years"), md=4),
            dbc.Col(stat_card("Gender accuracy", f"{metrics['gender_accuracy']:.1%}", f"macro-F1 {metrics['gender_macro_f1']:.3f}"), md=4),
            dbc.Col(stat_card("Race accuracy", f"{metrics['race_accuracy']:.1%}", f"macro-F1 {metrics['race_macro_f1']:.3f}"), md=4),
        ],
        className="g-3 my-2",
    )


def reliability_row(calibration: dict, heads: list[str]) -> dbc.Row:
    """One reliability diagram per calibrated head, raw against calibrated."""
    return dbc.Row(
        [
            dbc.Col(
                graph(
                    reliability_figure(
                        calibration[head]["before"],
                        calibration[head]["after"],
                        f"{head.capitalize()} reliability: ECE {calibration[head]['ece_before']:.3f} raw, {calibration[head]['ece_after']:.3f} calibrated",
                    ),
                    reliability_text(head, calibration[head]["ece_before"], calibration[head]["ece_after"]),
                ),
                lg=6,
            )
            for head in heads
        ],
        className="g-3 mt-1",
    )


OUTSIDE_COLUMNS = (
    ("gender_accuracy", "Gender", "{:.1%}"),
    ("gender_ece", "Gender ECE", "{:.3f}"),
    ("race_accuracy", "Race", "{:.1%}"),
    ("race_ece", "Race ECE", "{:.3f}"),
    ("others_recall", "Others recall", "{:.1%}"),
    ("age_mae", "Age MAE (years)", "{:.2f}"),
)
"""The columns of ``outside.json`` the tab shows, in order, with their formats."""


def outside_table(outside: dict) -> html.Div:
    """``outside.json`` (``make evaluate-outside``): the same pipeline on photos from other sources, a row per set, a dash where a set has no such label."""
    rows = [
        html.Tr(
            [html.Th(name, scope="row"), html.Td(f"{row['n_images']:,}")]
            + [html.Td("-" if row.get(key) is None else form.format(row[key])) for key, _, form in OUTSIDE_COLUMNS]
        )
        for name, row in outside["sets"].items()
    ]
    header = html.Thead(
        html.Tr([html.Th("Set", scope="col"), html.Th("Faces", scope="col")] + [html.Th(title, scope="col") for _, title, _ in OUTSIDE_COLUMNS])
    )
    return html.Div(
        [
            html.H2("Photos from other sources", className="h5 mt-4"),
            html.P(
                "UTKFace's crops share one look. The same pipeline, detection included, on web photos of children and adults "
                "(LAG, identities never trained on) and studio portraits (FRL), each set on its own: they are small and unlike each other."
            ),
            # Scrolls sideways on a phone: a focusable region, so the keyboard can scroll it too.
            html.Div(
                dbc.Table([header, html.Tbody(rows)], bordered=False, hover=True, size="sm"),
                className="table-responsive",
                tabIndex="0",
                role="region",
                **{"aria-label": "Figures on photos from other sources"},
            ),
        ]
    )


BIAS_NOTE = (
    "These figures come from the UTKFace test split, which is mostly frontal, well lit and over-represents White faces. "
    "The model is least reliable for the 'Others' race class, for young children's gender and for ages over 70. "
    "Race and gender are read from appearance and cannot describe how a person identifies: use the predictions for research and exploration, never to make decisions about people."
)


def evaluation_tab(metrics: dict, colours: dict[str, dict[str, str]], outside: dict | None = None) -> html.Div:
    if not metrics:
        return dbc.Alert("No metrics.json next to the model: run `make evaluate`.", color="warning", className="mt-3")
    confusion, calibration = metrics["confusion"], metrics.get("calibration", {})
    by_race, by_gender = metrics["by_race"], metrics["by_gender"]
    charts = dbc.Row(
        [
            dbc.Col(
                graph(
                    confusion_figure(confusion[head]["matrix"], confusion[head]["labels"], f"{head.capitalize()} confusion"),
                    confusion_text(confusion[head]["matrix"], confusion[head]["labels"], f"{head.capitalize()} confusion"),
                ),
                lg=6,
            )
            for head in confusion
        ],
        className="g-3",
    )
    groups = dbc.Row(
        [
            metric_bars(by_race, "race_accuracy", colours["race"], "Race accuracy per race", ".1%"),
            metric_bars(by_race, "gender_accuracy", colours["race"], "Gender accuracy per race", ".1%"),
            metric_bars(by_gender, "gender_accuracy", colours["gender"], "Gender accuracy per gender", ".1%"),
        ],
        className="g-3 mt-1",
    )
    age_bands = dbc.Row(
        [metric_bars(metrics["by_age_band"], column, {}, title, tick_format) for column, title, tick_format in AGE_BAND_CHARTS],
        className="g-3 mt-1",
    )
    return html.Div(
        [
            html.P(f"Shipped model on the {metrics['n_images']:,} faces of the canonical test split.", className="mt-3"),
            headline(metrics),
            charts,
            groups,
            age_bands,
            html.P(
                "Calibration: each head's probabilities are divided in log space by a temperature fitted on val and on val's faces "
                "put back into photos, so that a face shown with 80% confidence is right about 80% of the time on photos as well as "
                "on crops. The diagrams compare the raw and calibrated heads on test.",
                className="mt-3",
            ),
            reliability_row(calibration, [head for head in confusion if head in calibration]),
            *([outside_table(outside)] if outside else []),
            dbc.Alert([html.H2("Bias and limits", className="alert-heading h5"), html.P(BIAS_NOTE)], color="info", className="mt-3"),
        ]
    )
