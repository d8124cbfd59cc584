"""Thin callbacks: read the upload, call the shared predictor, hand results to components."""

from __future__ import annotations

import base64
import binascii
import logging

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from dashboard.components import alert, face_card, graph
from dashboard.figures import photo_figure
from dashboard.layout import ASSETS_DIR, SAMPLES
from model.decode import ImageError, decode_image
from model.predictor import get_predictor

log = logging.getLogger("face2data.dashboard")


def decode_upload(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL (``data:<type>;base64,<data>``)."""
    try:
        return base64.b64decode(contents.partition(",")[2], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageError("The upload could not be read: please try the file again.") from error


def render_prediction(data: bytes, name: str) -> list:
    """The photo with numbered boxes and one card per face, or a friendly alert."""
    try:
        image = decode_image(data)
    except ImageError as error:
        return [alert(f"{name}: {error}")]
    faces = get_predictor().predict(image)
    if not faces:
        return [alert(f"{name}: no face found. Try a photo where the face is larger, frontal and well lit.", "warning")]
    cards = [dbc.Col(face_card(number, face), md=6, xl=4) for number, face in enumerate(faces, start=1)]
    summary = f"{len(faces)} face{'s' if len(faces) > 1 else ''} found in {name} ({image.width}x{image.height})."
    return [
        html.P(summary, id="prediction-summary"),
        graph(photo_figure(image, [list(face.box) for face in faces]), graph_id="photo-graph"),
        dbc.Row(cards, className="g-3 mt-1"),
    ]


@callback(
    Output("prediction-output", "children"),
    Input("upload-photo", "contents"),
    Input({"type": "sample-button", "name": ALL}, "n_clicks"),
    State("upload-photo", "filename"),
    prevent_initial_call=True,
)
def show_prediction(contents: str | None, _clicks: list, filename: str | None) -> list:
    if ctx.triggered_id == "upload-photo":
        if not contents:
            return no_update
        try:
            data = decode_upload(contents)
        except ImageError as error:
            return [alert(str(error))]
        return render_prediction(data, filename or "upload")
    if isinstance(ctx.triggered_id, dict) and ctx.triggered_id.get("name") in SAMPLES and ctx.triggered[0]["value"]:
        name = ctx.triggered_id["name"]
        return render_prediction((ASSETS_DIR / "samples" / name).read_bytes(), SAMPLES[name])
    return no_update
