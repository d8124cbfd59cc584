import base64
import io

import numpy as np
from PIL import Image

from dashboard.inflight import EXTENSION, RETRY_AFTER_S
from model.predictor import get_predictor


def post_explain(client, fixture_bytes, **fields):
    data = {"image": (io.BytesIO(fixture_bytes(fields.pop("photo", "astronaut.png"))), "photo.png"), **fields}
    return client.post("/api/v1/explain", data=data, content_type="multipart/form-data")


def test_explain_returns_the_face_the_method_an_overlay_and_the_grid(client, fixture_bytes):
    response = post_explain(client, fixture_bytes, target="race")
    assert response.status_code == 200
    body = response.get_json()
    assert body["target"] == "race" and body["face_index"] == 0
    assert body["explained_output"]["label"] == body["face"]["race"]["label"]
    assert "SHAP" in body["method"] and "Partition" in body["method"]
    overlay = Image.open(io.BytesIO(base64.b64decode(body["overlay_png"])))
    assert overlay.format == "PNG" and overlay.size == (200, 200)
    grid = np.array(body["grid"])
    size = get_predictor().config.input_size
    assert grid.shape == (size, size) and np.isfinite(grid).all() and np.abs(grid).max() > 0


def test_explain_age_and_a_chosen_face_of_a_group(client, fixture_bytes):
    body = post_explain(client, fixture_bytes, photo="group.jpg", face="4", target="age").get_json()
    assert body["face_index"] == 4 and body["explained_output"]["label"] == "age (years)"
    assert abs(body["explained_output"]["value"] - body["face"]["age"]) < 0.1


def test_explain_refuses_bad_parameters(client, fixture_bytes):
    assert post_explain(client, fixture_bytes, target="mood").status_code == 400
    assert post_explain(client, fixture_bytes, face="first").status_code == 400
    response = post_explain(client, fixture_bytes, face="3")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "no_such_face"
    assert post_explain(client, fixture_bytes, photo="chelsea.png").status_code == 422


def test_explanations_past_the_slots_are_refused_with_retry_after(client, fixture_bytes):
    """With every slot taken (held here as running explanations would hold them), one more gets 503 and a Retry-After; then it runs."""
    slots = client.application.extensions[EXTENSION]
    taken = [slots.hold() for _ in range(slots.count)]
    for slot in taken:
        slot.__enter__()
    try:
        response = post_explain(client, fixture_bytes)
        assert response.status_code == 503 and response.get_json()["error"]["code"] == "explainer_busy"
        assert int(response.headers["Retry-After"]) == RETRY_AFTER_S
        assert client.post("/api/v1/predict", data=fixture_bytes("astronaut.png"), content_type="image/png").status_code == 200
    finally:
        for slot in taken:
            slot.__exit__(None, None, None)
    assert post_explain(client, fixture_bytes).status_code == 200
