import io
import socket
import subprocess
import sys
import threading

import psutil
import pytest
from werkzeug.serving import make_server

from model.decode import MAX_BYTES
from model.predictor import get_predictor
from support import ROOT
from training.contract import GENDERS, RACES


def multipart(data: bytes, name: str = "photo.jpg", field: str = "image") -> dict:
    return {"data": {field: (io.BytesIO(data), name)}, "content_type": "multipart/form-data"}


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_predict_multipart_one_face(client, fixture_bytes):
    response = client.post("/api/v1/predict", **multipart(fixture_bytes("astronaut.png"), "astronaut.png"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["image"] == {"width": 512, "height": 512}
    (face,) = body["faces"]
    assert list(face["gender"]["probabilities"]) == list(GENDERS) and list(face["race"]["probabilities"]) == list(RACES)
    assert len(face["box"]) == 4 and set(face["landmarks"]) == {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"}
    assert {"decode_ms", "detect_ms", "predict_ms", "total_ms"} <= set(body["timings_ms"])


@pytest.mark.parametrize(
    ("name", "faces"),
    [
        ("group.jpg", 6),
        ("astronaut_exif_rotated.jpg", 1),
        ("camera.png", 1),  # the man; the mirror check drops his ear
        ("astronaut_rgba.png", 1),
        ("utkface_crop.jpg", 1),
        ("chelsea.png", 0),
    ],
)
def test_predict_raw_body_on_real_photos(client, fixture_bytes, name, faces):
    response = client.post("/api/v1/predict", data=fixture_bytes(name), content_type="image/jpeg" if name.endswith("jpg") else "image/png")
    assert response.status_code == 200
    found = len(response.get_json()["faces"])
    assert found == faces


def test_skip_detection_reads_the_photo_whole(client, fixture_bytes):
    body = client.post("/api/v1/predict?skip_detection=true", data=fixture_bytes("utkface_crop.jpg"), content_type="image/jpeg").get_json()
    assert body["faces"][0]["detected"] is False and body["faces"][0]["score"] is None
    astronaut = client.post("/api/v1/predict", data=fixture_bytes("astronaut.png"), content_type="image/png").get_json()
    assert astronaut["faces"][0]["detected"] is True


def test_bad_inputs_get_4xx_and_the_server_keeps_serving(client, fixture_bytes):
    cases = [
        (client.post("/api/v1/predict", data=b"", content_type="image/jpeg"), 400, "empty_image"),
        (client.post("/api/v1/predict", **multipart(b"hello, I am text", "notes.jpg")), 400, "unreadable_image"),
        (client.post("/api/v1/predict", **multipart(fixture_bytes("astronaut_exif_rotated.jpg")[:4000])), 400, "unreadable_image"),
        (client.post("/api/v1/predict", **multipart(fixture_bytes("bomb.png"), "bomb.png")), 413, "image_too_large"),
        (client.post("/api/v1/predict", **multipart(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "x.svg")), 415, "unsupported_media_type"),
        (client.post("/api/v1/predict", data=b"<svg/>", content_type="image/svg+xml"), 415, "unsupported_media_type"),
        (client.post("/api/v1/predict", data=b"{}", content_type="application/json"), 415, "unsupported_media_type"),
        (client.post("/api/v1/predict", **multipart(fixture_bytes("astronaut.png"), field="photo")), 400, "invalid_image"),
        (client.post("/api/v1/predict", data=b"x" * (MAX_BYTES + 10), content_type="image/jpeg"), 413, "image_too_large"),
        (client.get("/api/v1/predict"), 405, "method_not_allowed"),
        (client.get("/api/v1/nothing-here"), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert_error(response, status, code)
    assert client.get("/api/v1/health").get_json()["status"] == "ok"
    assert client.post("/api/v1/predict", data=fixture_bytes("astronaut.png"), content_type="image/png").status_code == 200


def test_a_100_mb_body_is_refused_without_being_read(client):
    """A real socket: announce 100 MB, send only 64 kB, and get 413 before the rest is sent (a server waiting for it would time the socket out)."""
    server = make_server("127.0.0.1", 0, client.application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rss_before = psutil.Process().memory_info().rss
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as connection:
            connection.sendall(
                b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % (100 * 2**20)
            )
            connection.sendall(b"\0" * 65536)
            reply = ""
            while "}}" not in reply:  # the end of the JSON error body
                reply += connection.recv(65536).decode("latin-1")
    finally:
        server.shutdown()
    assert reply.startswith("HTTP/1.1 413") and "payload_too_large" in reply
    assert psutil.Process().memory_info().rss - rss_before < 20 * 2**20


def test_health_model_and_openapi(client):
    health = client.get("/api/v1/health").get_json()
    assert health["status"] == "ok" and health["version"] == "0.1.0" and health["explainer"] in {"ready", "warming up"}
    info = client.get("/api/v1/model").get_json()
    assert info["labels"] == {"gender": list(GENDERS), "race": list(RACES)} and info["input_size"] == get_predictor().config.input_size
    assert info["age_groups"][0] == "0-2" and "age_mae" in info["metrics"]
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/api/v1/predict", "/api/v1/explain", "/api/v1/health", "/api/v1/model", "/api/v1/openapi.json"}
    responses = document["paths"]["/api/v1/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415"} <= set(responses)


def test_security_headers_and_no_debug(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-eval" not in policy and "''" not in policy
    assert "http" not in policy  # no third-party origin: everything is served by the app


def test_page_loads_nothing_from_a_cdn(client):
    html = client.get("/").get_data(as_text=True)
    assert "bootstrap.min.css" in html and "cdn" not in html.lower() and "https://" not in html


def test_no_request_after_start_loads_a_model_file(monkeypatch, fixture_bytes):
    """Everything under model/ is read by create_app() (before gunicorn forks), never by a request."""
    import builtins
    import io

    import ai_edge_litert.interpreter

    import model.detect
    import model.runtime
    from dashboard.app import create_app
    from model.config import MODEL_DIR

    client = create_app().server.test_client()
    opened: list[str] = []
    real_open = builtins.open

    def recording_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    class RecordingInterpreter(ai_edge_litert.interpreter.Interpreter):
        def __init__(self, *args, **kwargs):
            opened.append(str(kwargs.get("model_path", args[0] if args else "")))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    for module in (model.detect, model.runtime):  # where the LiteRT interpreters are made
        monkeypatch.setattr(module, "Interpreter", RecordingInterpreter)
    assert client.post("/api/v1/predict", data=fixture_bytes("group.jpg"), content_type="image/jpeg").status_code == 200
    assert client.post("/api/v1/predict?skip_detection=true", data=fixture_bytes("utkface_crop.jpg"), content_type="image/jpeg").status_code == 200
    for path in ("/api/v1/model", "/api/v1/health", "/api/v1/openapi.json", "/"):
        assert client.get(path).status_code == 200
    under_model = [path for path in opened if str(MODEL_DIR) in path or path.startswith("model/")]
    assert under_model == []
    # The recorder works: opening a model file now is seen.
    with open(MODEL_DIR / "config.json") as stream:
        stream.read(1)
    assert any("config.json" in path for path in opened)


@pytest.mark.subprocesses
def test_importing_the_app_module_builds_nothing():
    code = "import dashboard.app, model.predictor; print(model.predictor._predictor.cache_info().currsize, hasattr(dashboard.app, 'server'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["0", "False"]
