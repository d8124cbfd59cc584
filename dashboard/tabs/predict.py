"""The Predict tab: a photo in (upload, camera or sample), every face out with its charts and Explain."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard.alt_text import photo_text
from dashboard.components import ASSETS_DIR, alert, explanation_view, face_card, graph, upload_zone
from dashboard.constants import class_colours
from dashboard.figures import photo_figure, png_data_uri
from dashboard.inflight import RETRY_AFTER_S, ExplainerBusy, InFlight, explanation_slot
from model.attribution import ExplanationCancelled, explain_face
from model.decode import MAX_BYTES, ImageError, decode_data_url, decode_image, photo_size
from model.predictor import FacePrediction, get_predictor

SAMPLES = {"astronaut.png": "Astronaut (one face)", "group.jpg": "Group (six faces)", "camera.png": "Grayscale photo"}
EXPLAINING = InFlight()


def predict_tab() -> html.Div:
    return html.Div(
        [
            upload_zone(
                "upload-photo",
                "Drag and drop a photo here, or ",
                f"JPEG, PNG, WebP or HEIC, up to {MAX_BYTES // 2**20} MB",
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
            html.Div(id="prediction-announcement", role="status", className="visually-hidden"),
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


def render_prediction(data: bytes, name: str) -> tuple[list, list[str], str]:
    """The photo with numbered boxes and one card per face (or a friendly alert), the aligned
    crops as PNG data URIs for the Explain buttons (kept in the browser, not here), and the
    sentence the page's live region announces."""
    try:
        image = decode_image(data)
    except ImageError as error:
        return [alert(f"{name}: {error}")], [], f"{name}: {error}"
    predictor = get_predictor()
    faces = predictor.predict(image)
    if not faces:
        message = f"{name}: no face found. Try a photo where the face is larger, frontal and well lit."
        return [alert(message, "warning")], [], message
    colours = class_colours(predictor.config)
    cards = [dbc.Col(face_card(number, face, colours), md=6, xl=4) for number, face in enumerate(faces, start=1)]
    width, height = photo_size(image)
    summary = f"{len(faces)} face{'s' if len(faces) > 1 else ''} found in {name} ({width}x{height})."
    announcement = f"{len(faces)} face{'s' if len(faces) > 1 else ''} found: " + "; ".join(face_sentence(face) for face in faces) + "."
    crops = [png_data_uri(face.crop) for face in faces]
    page = [
        html.P(summary, id="prediction-summary"),
        graph(photo_figure(image, [list(face.box) for face in faces]), photo_text(len(faces)), graph_id="photo-graph"),
        dbc.Row(cards, className="g-3 mt-1"),
    ]
    return page, crops, announcement


def face_sentence(face: FacePrediction) -> str:
    """What a screen reader hears of one face: ``about 34 years, female 97%, Asian 90%``."""
    gender, race = face.label("gender"), face.label("race")
    return f"about {face.age:.0f} years, {gender} {face.gender[gender]:.0%}, {race} {face.race[race]:.0%}"


def render_data_url(url: str | None, name: str) -> tuple:
    """``render_prediction`` of a browser data URL (an upload or a camera frame); nothing to draw without one."""
    if not url:
        return no_update, no_update, no_update
    try:
        data = decode_data_url(url)
    except ImageError as error:
        return [alert(str(error))], [], str(error)
    return render_prediction(data, name)


def show_prediction(contents: str | None, _clicks: list, frame: str | None, filename: str | None) -> tuple:
    if ctx.triggered_id == "camera-frame":
        return render_data_url(frame, "camera snapshot")
    if ctx.triggered_id == "upload-photo":
        return render_data_url(contents, filename or "upload")
    if isinstance(ctx.triggered_id, dict) and ctx.triggered_id.get("name") in SAMPLES and ctx.triggered[0]["value"]:
        name = ctx.triggered_id["name"]
        return render_prediction((ASSETS_DIR / "samples" / name).read_bytes(), SAMPLES[name])
    return no_update, no_update, no_update


def show_explanation(_clicks: int, target: str, crops: list[str], token: str) -> html.Div:
    index = ctx.triggered_id["index"]
    predictor = get_predictor()
    if not crops or index >= len(crops) or target not in predictor.config.outputs:
        return alert("Upload the photo again to explain this face.", "warning")
    crop = decode_image(decode_data_url(crops[index]))
    (face,) = predictor.predict(crop, skip_detection=True)
    cancelled = EXPLAINING.start(token)
    try:
        with explanation_slot():
            explanation = explain_face(predictor, face, target, cancelled=cancelled)
    except ExplanationCancelled:
        return alert("Explanation cancelled.", "secondary")
    except ExplainerBusy:
        return alert(f"The explainer is busy with other explanations: try again in {RETRY_AFTER_S} s.", "warning")
    finally:
        EXPLAINING.finish(token, cancelled)
    return explanation_view(png_data_uri(explanation.overlay), explanation.output_label, target)


def cancel_explanation(_clicks: int, token: str) -> None:
    """Stop the explanation this card is waiting for; its own callback then says it was cancelled."""
    EXPLAINING.cancel(token)


def register_predict_callbacks(app: Dash) -> None:
    """Attach the callbacks to one app. Per app rather than with ``dash.callback``: Dash hands
    global callbacks to the first app that serves a request, so a second app in the same
    process (tests build several) would silently get none."""
    app.callback(
        Output("prediction-output", "children"),
        Output("face-crops", "data"),
        Output("prediction-announcement", "children"),
        Input("upload-photo", "contents"),
        Input({"type": "sample-button", "name": ALL}, "n_clicks"),
        Input("camera-frame", "data"),
        State("upload-photo", "filename"),
        prevent_initial_call=True,
    )(show_prediction)
    app.callback(
        Output({"type": "explain-output", "index": MATCH}, "children"),
        Input({"type": "explain-button", "index": MATCH}, "n_clicks"),
        State({"type": "explain-target", "index": MATCH}, "value"),
        State("face-crops", "data"),
        State({"type": "explain-token", "index": MATCH}, "data"),
        running=[(Output({"type": "explain-cancel", "index": MATCH}, "style"), {"display": "inline-block"}, {"display": "none"})],
        prevent_initial_call=True,
    )(show_explanation)
    app.callback(
        Input({"type": "explain-cancel", "index": MATCH}, "n_clicks"),
        State({"type": "explain-token", "index": MATCH}, "data"),
        prevent_initial_call=True,
    )(cancel_explanation)
