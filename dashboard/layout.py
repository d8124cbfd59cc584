"""The page: a navbar and six tabs, drawn from the model's artifacts when the app is built."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.batch import batch_tab
from dashboard.components import graph, stat_card, upload_zone
from dashboard.constants import AGE_BAND_CHARTS, GENDER_COLOURS, RACE_COLOURS, TRAINING_CURVES
from dashboard.figures import age_histogram, confusion_figure, group_bars, race_by_gender_bars, reliability_figure, shares_pie, training_curve
from model.artifacts import ModelArtifacts
from model.calibration import CALIBRATED_HEADS

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}
SAMPLES = {"astronaut.png": "Astronaut (one face)", "group.jpg": "Group (six faces)", "camera.png": "Grayscale photo"}


def predict_tab() -> html.Div:
    return html.Div(
        [
            upload_zone(
                "upload-photo",
                "Drag and drop a photo here, or ",
                "JPEG, PNG, WebP or HEIC, up to 15 MB",
                accept="image/*,.heic,.heif",
                multiple=False,
            ),
            html.Div(
                [
                    dbc.Button("Use camera", id="camera-open", size="sm", color="primary", outline=True, className="me-2"),
                    html.Div(
                        [
                            html.Video(id="camera-video", autoPlay=True, muted=True, className="d-block mb-2"),
                            dbc.Button("Take photo", id="camera-shutter", size="sm", color="primary", className="me-2", disabled=True),
                            dbc.Button("Close", id="camera-close", size="sm", color="secondary", outline=True),
                            html.Div(id="camera-message", className="small text-muted mt-1", role="status"),
                        ],
                        id="camera-panel",
                        className="my-2",
                        style={"display": "none"},
                    ),
                    dcc.Store(id="camera-frame"),
                ],
                className="my-2",
            ),
            html.Div(
                [html.Span("Or try a sample: ", className="me-2 small text-muted")]
                + [
                    dbc.Button(label, id={"type": "sample-button", "name": name}, size="sm", color="secondary", outline=True, className="me-2 mb-1")
                    for name, label in SAMPLES.items()
                ],
                className="my-2",
            ),
            dcc.Store(id="face-crops", data=[]),
            # Only a new prediction hides the results: an explanation has its own spinner inside its
            # card, and the card (its Cancel button, its target) must stay usable meanwhile.
            dcc.Loading(
                html.Div(id="prediction-output", className="mt-3"),
                type="circle",
                delay_show=100,
                target_components={"prediction-output": "children"},
            ),
        ]
    )


def networks_of(config: dict) -> list[dict]:
    """The trained networks config.json describes: an ensemble's members, or the one network."""
    training = config.get("training", {})
    return training.get("members") or [{"input_size": config["input"]["size"], **training}]


def member_title(number: int, member: dict) -> str:
    """How a member of the shipped ensemble was trained, in a line."""
    size = member["input_size"]
    epochs = f"{member['epochs']} epoch{'s' if member['epochs'] != 1 else ''}"
    if member.get("backbone"):
        how = f", pretrained FaceRes with blocks {member['frozen_blocks'] + 1}-13 fine-tuned"
    else:
        how = " from scratch" + (" with mixup" if member.get("mixup_alpha") else "")
    return f"Network {number}: {size}x{size} pixels{how}, {epochs}; epoch {member['best_epoch']} is shipped (lowest combined validation error)"


def training_tab(histories: list[dict[str, list[float]]], members: list[dict]) -> html.Div:
    """Four curves per trained network; an ensemble shows each member under its own heading."""
    sections = []
    for number, history in enumerate(histories, start=1):
        graphs = [
            dbc.Col(
                graph(
                    training_curve(history, column, title, higher, tick),
                    graph_id=f"training-{number}-{column.replace('_', '-')}",
                    className="training-graph",
                ),
                lg=6,
            )
            for title, column, higher, tick in TRAINING_CURVES
        ]
        if len(members) == len(histories) > 1:
            sections.append(html.H5(member_title(number, members[number - 1]), className="mt-4"))
        sections.append(dbc.Row(graphs, className="g-3"))
    intro = "Train and validation curves of the shipped model, one point per epoch. The star marks each curve's best validation epoch."
    if len(histories) > 1:
        intro += f" The model averages the outputs of {spoken_number(len(histories))} networks; each has its own curves."
    return html.Div([html.P(intro, className="mt-3"), *sections])


def metric_bars(groups: dict[str, dict], column: str, colours: dict[str, str], title: str, tick_format: str) -> dbc.Col:
    """One figure of metrics.json's per-group rows (per race, gender or age band) as a bar per group, a third of the tab wide."""
    return dbc.Col(graph(group_bars({name: row[column] for name, row in groups.items()}, colours, title, tick_format)), lg=4)


def evaluation_tab(metrics: dict) -> html.Div:
    if not metrics:
        return dbc.Alert("No metrics.json next to the model: run `make evaluate`.", color="warning", className="mt-3")
    by_race = metrics["by_race"]
    by_gender = metrics["by_gender"]
    by_age_band = metrics["by_age_band"]
    headline = dbc.Row(
        [
            dbc.Col(stat_card("Age MAE", f"{metrics['age_mae']:.2f} years", f"{metrics['age_within_5_years']:.0%} within 5 years"), md=4),
            dbc.Col(stat_card("Gender accuracy", f"{metrics['gender_accuracy']:.1%}", f"macro-F1 {metrics['gender_macro_f1']:.3f}"), md=4),
            dbc.Col(stat_card("Race accuracy", f"{metrics['race_accuracy']:.1%}", f"macro-F1 {metrics['race_macro_f1']:.3f}"), md=4),
        ],
        className="g-3 my-2",
    )
    charts = dbc.Row(
        [
            dbc.Col(
                graph(confusion_figure(metrics["confusion"]["gender"]["matrix"], metrics["confusion"]["gender"]["labels"], "Gender confusion")), lg=6
            ),
            dbc.Col(graph(confusion_figure(metrics["confusion"]["race"]["matrix"], metrics["confusion"]["race"]["labels"], "Race confusion")), lg=6),
        ],
        className="g-3",
    )
    groups = dbc.Row(
        [
            metric_bars(by_race, "race_accuracy", RACE_COLOURS, "Race accuracy per race", ".1%"),
            metric_bars(by_race, "gender_accuracy", RACE_COLOURS, "Gender accuracy per race", ".1%"),
            metric_bars(by_gender, "gender_accuracy", GENDER_COLOURS, "Gender accuracy per gender", ".1%"),
        ],
        className="g-3 mt-1",
    )
    age_bands = dbc.Row(
        [metric_bars(by_age_band, column, {}, title, tick_format) for column, title, tick_format in AGE_BAND_CHARTS],
        className="g-3 mt-1",
    )
    calibration = metrics.get("calibration", {})
    reliability = dbc.Row(
        [
            dbc.Col(
                graph(
                    reliability_figure(
                        calibration[head]["before"],
                        calibration[head]["after"],
                        f"{head.capitalize()} reliability: ECE {calibration[head]['ece_before']:.3f} raw, {calibration[head]['ece_after']:.3f} calibrated",
                    )
                ),
                lg=6,
            )
            for head in CALIBRATED_HEADS
            if head in calibration
        ],
        className="g-3 mt-1",
    )
    note = dbc.Alert(
        [
            html.H5("Bias and limits", className="alert-heading"),
            html.P(
                "These figures come from the UTKFace test split (2,369 faces), which is mostly frontal, well lit and over-represents White faces. "
                "The model is least reliable for the 'Others' race class, for young children's gender and for ages over 70. "
                "Race and gender are read from appearance and cannot describe how a person identifies: use the predictions for research and exploration, never to make decisions about people."
            ),
        ],
        color="info",
        className="mt-3",
    )
    return html.Div(
        [
            html.P(f"Shipped model on the {metrics['n_images']:,} faces of the canonical test split.", className="mt-3"),
            headline,
            charts,
            groups,
            age_bands,
            html.P(
                "Calibration: each head's probabilities are divided in log space by a temperature fitted on val, so that a face shown "
                "with 80% confidence is right about 80% of the time. The diagrams compare the raw and calibrated heads on test.",
                className="mt-3",
            ),
            reliability,
            note,
        ]
    )


def dataset_tab(summary: dict) -> html.Div:
    return html.Div(
        [
            html.P(
                f"UTKFace: {summary['n_images']:,} labelled faces, split {summary['splits']['train']:,} train / {summary['splits']['val']:,} val / {summary['splits']['test']:,} test.",
                className="mt-3",
            ),
            dbc.Row(
                [
                    dbc.Col(graph(age_histogram(summary["age"])), lg=12),
                    dbc.Col(graph(shares_pie(summary["gender"], GENDER_COLOURS, "Gender")), lg=4),
                    dbc.Col(graph(shares_pie(summary["race"], RACE_COLOURS, "Race")), lg=4),
                    dbc.Col(graph(race_by_gender_bars(summary["race_by_gender"], GENDER_COLOURS)), lg=4),
                ],
                className="g-3",
            ),
            html.P(
                "UTKFace is available for non-commercial research purposes only; the copyright of the images stays with their owners.",
                className="small text-muted mt-2",
            ),
        ]
    )


def spoken_number(count: int) -> str:
    """A small count as a word ("two"), as prose writes it; larger ones stay digits."""
    return NUMBER_WORDS.get(count, str(count))


def spoken_list(items: list[str]) -> str:
    """Items as a sentence names them: "a", "a and b", "a, b and c"."""
    return " and ".join(part for part in (", ".join(items[:-1]), items[-1]) if part)


def describe_networks(count: int, member: dict) -> str:
    """``count`` networks trained like ``member`` (an entry of config.json), as prose names them."""
    size = f"{member['input_size']}x{member['input_size']}"
    number = "a" if count == 1 else spoken_number(count)
    if member.get("backbone"):
        return f"{number} MobileNet-v1 pretrained on faces (HSE FaceRes) and fine-tuned on UTKFace ({size} input)"
    return f"{number} residual CNN{'s' if count > 1 else ''} trained from scratch ({size} input)"


def network_sentence(config: dict) -> str:
    """What reads the face: one network, or the ensemble that config.json describes."""
    members = networks_of(config)
    views = ", each also on the mirrored face" if config["test_time_augmentation"]["mirror"] else ""
    kinds = Counter((bool(member.get("backbone")), member["input_size"]) for member in members)
    first_of = {(bool(member.get("backbone")), member["input_size"]): member for member in reversed(members)}
    described = spoken_list([describe_networks(count, first_of[kind]) for kind, count in kinds.items()])
    if len(members) == 1:
        return f"{described[0].upper()}{described[1:]}, with three heads, reads age as a distribution over 0-116 years, gender and race{views}."
    return (
        f"{spoken_number(len(members)).capitalize()} networks, {described}, each with three heads, read age as a distribution "
        f"over 0-116 years, gender and race; the app shows the mean of their outputs{views}."
    )


def about_tab(config: dict) -> html.Div:
    training = config.get("training", {})
    return html.Div(
        [
            html.H4("How it works", className="mt-3"),
            html.Ol(
                [
                    html.Li("The photo is decoded in memory (EXIF rotation applied, any colour mode to RGB)."),
                    html.Li(
                        "RetinaFace finds every face and five landmarks (eyes, nose, mouth corners), faces cut by the frame, turned or partly covered included."
                    ),
                    html.Li("Each face is warped onto the geometry of the UTKFace crops with a similarity transform."),
                    html.Li(network_sentence(config)),
                ]
            ),
            html.P(
                f"Trained on UTKFace's train split on {config.get('machine')}. The training stages took "
                f"{training.get('epochs')} epochs and {config.get('wall_time_s', 0) / 60:.0f} minutes; docs/model.md has the whole recipe (make train).",
                className="small",
            ),
            html.H4("REST API"),
            html.P(
                [
                    "POST a photo to ",
                    html.Code("/api/v1/predict"),
                    "; the OpenAPI document is at ",
                    html.A("/api/v1/openapi.json", href="/api/v1/openapi.json"),
                    ".",
                ]
            ),
            html.Pre(html.Code('curl -F "image=@photo.jpg" http://127.0.0.1:8050/api/v1/predict'), className="bg-light p-2 rounded"),
            html.H4("Privacy"),
            html.P("Photos are processed in memory and never stored, logged or sent anywhere. Nothing leaves this server."),
        ]
    )


def make_layout(artifacts: ModelArtifacts) -> dbc.Container:
    """The whole page, built from the model's artifacts (the predictor's, loaded once)."""
    config, history, metrics, summary = artifacts.config.raw, artifacts.history, artifacts.metrics, artifacts.dataset_summary
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
                    dbc.Tab(batch_tab(), label="Batch", tab_id="tab-batch"),
                    dbc.Tab(training_tab(history, networks_of(config)), label="Training", tab_id="tab-training"),
                    dbc.Tab(evaluation_tab(metrics), label="Evaluation", tab_id="tab-evaluation"),
                    dbc.Tab(dataset_tab(summary), label="Dataset", tab_id="tab-dataset"),
                    dbc.Tab(about_tab(config), label="About & API", tab_id="tab-about"),
                ],
                id="tabs",
                active_tab="tab-predict",
            ),
            html.Footer(html.Small("Face2Data: a research tool. UTKFace is for non-commercial research only."), className="text-muted my-4"),
        ],
        fluid="lg",
    )
