"""The About & API tab: how a face is read, how to call the API, and what happens to a photo."""

from __future__ import annotations

from dash import html

from model.config import ModelConfig


def network_sentence(config: ModelConfig) -> str:
    """What reads the face, in a sentence drawn from config.json."""
    size = config.input_size
    return (
        f"A MobileNet-v1 pretrained on faces (HSE FaceRes) and fine-tuned on UTKFace ({size}x{size} input), with three heads, "
        f"reads age as a distribution over 0-{config.max_age} years, gender and race."
    )


def about_tab(config: ModelConfig) -> html.Div:
    training = config.training
    return html.Div(
        [
            html.H2("How it works", className="h4 mt-3"),
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
                f"Trained on UTKFace's train split on {config.raw.get('machine')}: {training.get('epochs')} epochs in "
                f"{config.raw.get('wall_time_s', 0) / 60:.0f} minutes; docs/model.md has the whole recipe (make train).",
                className="small",
            ),
            html.H2("REST API", className="h4"),
            html.P(
                [
                    "POST a photo to ",
                    html.Code("/api/v1/predict"),
                    "; the OpenAPI document is at ",
                    html.A("/api/v1/openapi.json", href="/api/v1/openapi.json"),
                    ".",
                ]
            ),
            html.Pre(
                html.Code('curl -F "image=@photo.jpg" http://127.0.0.1:8050/api/v1/predict'),
                className="bg-light p-2 rounded",
                style={"whiteSpace": "pre-wrap", "wordBreak": "break-all"},
            ),
            html.H2("Privacy", className="h4"),
            html.P("Photos are processed in memory and never stored, logged or sent anywhere. Nothing leaves this server."),
        ]
    )
