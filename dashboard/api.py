"""REST API under ``/api/v1``: thin routes over the same predictor the dashboard uses."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from dashboard.errors import error_response, http_error_response
from dashboard.inflight import RETRY_AFTER_S, ExplainerBusy, explanation_slot
from dashboard.openapi import openapi_document
from model import __version__
from model.attribution import explain_face, explainer_state
from model.decode import ImageError, UnsupportedImageType, decode_image, photo_size
from model.predictor import get_predictor

log = logging.getLogger("face2data.api")
api = Blueprint("api", __name__, url_prefix="/api/v1")
RAW_IMAGE_TYPES = ("image/", "application/octet-stream")


def read_upload() -> bytes:
    """The image bytes from a multipart ``image`` field or a raw image body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise ImageError("Send the photo in a multipart field named 'image', or as the raw request body.")
        return upload.read()
    if request.mimetype and not request.mimetype.startswith(RAW_IMAGE_TYPES):
        raise _unsupported(request.mimetype)
    return request.get_data(cache=False)


def _unsupported(mimetype: str) -> ImageError:
    return UnsupportedImageType(f"Content type {mimetype!r} is not supported: send an image (JPEG, PNG, WebP or HEIC).")


def is_true(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes"}


def skip_detection() -> bool:
    """The ``skip_detection`` flag, from the query or the form."""
    return is_true(request.values.get("skip_detection"))


@api.post("/predict")
def predict() -> tuple[Response, int]:
    """Every face in the photo with age, gender and race; no face gives 200 with ``faces: []``."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    image = decode_image(read_upload())
    timings["decode_ms"] = round(1000 * (time.perf_counter() - started), 1)
    faces = get_predictor().predict(image, skip_detection=skip_detection(), timings=timings)
    g.faces = len(faces)
    timings["total_ms"] = round(1000 * (time.perf_counter() - started), 1)
    width, height = photo_size(image)
    body = {"faces": [face.to_dict() for face in faces], "image": {"width": width, "height": height}, "timings_ms": timings}
    return jsonify(body), 200


@api.post("/explain")
def explain() -> tuple[Response, int]:
    """A SHAP attribution map of one output of one face (computed on demand: seconds of CPU, see benchmarks/results.md)."""
    started = time.perf_counter()
    target = request.values.get("target", "gender")
    outputs = get_predictor().config.outputs
    if target not in outputs:
        return error_response(400, "invalid_target", f"target must be one of {', '.join(outputs)}.")
    try:
        index = int(request.values.get("face", "0"))
    except ValueError:
        return error_response(400, "invalid_face", "face must be the index of a face (0 for the first).")
    image = decode_image(read_upload())
    faces = get_predictor().predict(image, skip_detection=skip_detection())
    g.faces = len(faces)
    if not 0 <= index < len(faces):
        return error_response(422, "no_such_face", f"The photo has {len(faces)} face(s); there is no face {index}.")
    try:
        with explanation_slot():
            explanation = explain_face(get_predictor(), faces[index], target)
    except ExplainerBusy:
        response, status = error_response(503, "explainer_busy", f"The explainer is busy: try again in {RETRY_AFTER_S} s.")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response, status
    body = {"face_index": index, "face": faces[index].to_dict(), **explanation.to_dict()}
    body["timings_ms"] = {"total_ms": round(1000 * (time.perf_counter() - started), 1)}
    return jsonify(body), 200


@api.get("/health")
def health() -> tuple[Response, int]:
    get_predictor()
    return jsonify({"status": "ok", "version": __version__, "explainer": explainer_state()}), 200


@api.get("/model")
def model_info() -> tuple[Response, int]:
    predictor = get_predictor()
    config = predictor.config
    return jsonify(
        {
            "version": __version__,
            "input_size": config.input_size,
            "labels": {"gender": list(config.genders), "race": list(config.races)},
            "age_groups": list(config.labels["age_group"]),
            "metrics": predictor.artifacts.metrics,
            "training": config.training,
        }
    ), 200


@api.get("/openapi.json")
def openapi() -> tuple[Response, int]:
    return jsonify(openapi_document(get_predictor().config)), 200


@api.before_app_request
def keep_api_paths_out_of_the_dashboard() -> tuple[Response, int] | None:
    """API paths answer for themselves: OPTIONS lists only their own methods, and unknown
    paths or methods get JSON 404/405 instead of the dashboard's catch-all page."""
    if not request.path.startswith(api.url_prefix + "/"):
        return None
    allowed = {method for rule in current_app.url_map.iter_rules() if rule.rule == request.path for method in rule.methods or ()}
    if request.method == "OPTIONS" and allowed:
        response = Response(status=204)
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response, 204
    if request.url_rule and request.url_rule.endpoint.startswith("api."):
        return None
    if allowed:
        return error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}.", allow=list(allowed))
    return error_response(404, "not_found", f"There is no API endpoint {request.path}.")


@api.errorhandler(ImageError)
def image_error(error: ImageError) -> tuple[Response, int]:
    return error_response(error.status, error.code, str(error))


@api.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[Response, int]:
    return http_error_response(error)


@api.errorhandler(Exception)
def unexpected_error(error: Exception) -> tuple[Response, int]:
    log.exception("unexpected error on %s", request.path)
    return error_response(500, "internal_error", "Something went wrong on our side; the error has been logged.")
