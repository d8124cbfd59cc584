"""Junk, floods and privacy: every answer is a documented 2xx or 4xx, and nothing is kept."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from dashboard.app import create_app
from model.decode import ImageError, decode_image
from support import FIXTURES

SEEDS = [(FIXTURES / name).read_bytes() for name in ("utkface_crop.jpg", "camera.png", "astronaut_exif_rotated.jpg")]
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app().server)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    # Random bytes fit the schema's "binary" but are not photos: refusing them is correct,
    # so the check that schema-valid bodies must be accepted does not apply to /predict.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@st.composite
def mutated_image(draw) -> bytes:
    """A real image with bytes flipped, cut or inserted: what corrupted uploads look like."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position:]
            if not data:
                break
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@given(mutated_image())
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_decoder_returns_rgb_or_a_typed_error(data):
    try:
        image = decode_image(data)
    except ImageError as error:
        assert error.status in (400, 413, 415)
    else:
        assert image.mode == "RGB" and image.width > 0 and image.height > 0


@given(mutated_image())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_mutated_images_with_2xx_or_4xx(client, data):
    response = client.post("/api/v1/predict", data=data, content_type="image/jpeg")
    assert response.status_code in (200, 400, 413, 415)
    assert response.is_json


def test_rate_limit_is_off_by_default_and_configurable(monkeypatch, fixture_bytes):
    unlimited = create_app().server.test_client()
    assert all(unlimited.get("/api/v1/model").status_code == 200 for _ in range(30))
    monkeypatch.setenv("RATE_LIMIT", "5/minute")
    limited = create_app().server.test_client()
    statuses = [limited.get("/api/v1/model").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    body = limited.get("/api/v1/model").get_json()
    assert body["error"]["code"] == "rate_limited"


def behind_the_router(client, forwarded_for: str, path: str = "/api/v1/model", **kwargs):
    """A request as the platform's router (10.1.2.3) passes it on, having appended the client's address."""
    return client.get(path, headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": "10.1.2.3"}, **kwargs)


def test_behind_one_trusted_proxy_each_client_has_its_own_budget_and_health_is_never_limited(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT", "5/minute")
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    client = create_app().server.test_client()
    a = [behind_the_router(client, "203.0.113.7") for _ in range(6)]
    assert [response.status_code for response in a] == [200] * 5 + [429]
    assert a[-1].get_json()["error"]["code"] == "rate_limited"
    assert behind_the_router(client, "198.51.100.9").status_code == 200  # client B
    # Client A writes its own X-Forwarded-For; the router appends the real address, and only that hop is trusted.
    assert behind_the_router(client, "192.0.2.99, 203.0.113.7").status_code == 429
    assert all(behind_the_router(client, "203.0.113.7", "/api/v1/health").status_code == 200 for _ in range(10))


def test_without_trusted_proxies_forwarded_addresses_are_ignored(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT", "2/minute")
    monkeypatch.delenv("TRUSTED_PROXY_HOPS", raising=False)
    client = create_app().server.test_client()
    statuses = [behind_the_router(client, f"203.0.113.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]  # every request is the router's


def test_explain_has_its_own_tighter_budget(monkeypatch, fixture_bytes):
    monkeypatch.setenv("RATE_LIMIT", "30/minute")
    monkeypatch.setenv("EXPLAIN_RATE_LIMIT", "1/minute")
    client = create_app().server.test_client()
    first = client.post("/api/v1/explain?target=height", data=fixture_bytes("utkface_crop.jpg"), content_type="image/jpeg")
    second = client.post("/api/v1/explain?target=height", data=fixture_bytes("utkface_crop.jpg"), content_type="image/jpeg")
    assert first.status_code == 400 and second.status_code == 429
    assert client.post("/api/v1/predict", data=fixture_bytes("utkface_crop.jpg"), content_type="image/jpeg").status_code == 200


WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class WritesRecorder:
    """Files this thread opens for writing while ``recording``, seen through Python's ``open`` audit event.

    An audit hook stays for the life of the process, so one recorder is installed once and
    switched on only around the requests under test, for the test's own thread.
    """

    def __init__(self) -> None:
        self.recording: int | None = None
        self.written: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event == "open" and self.recording == threading.get_ident():
            path, mode, flags = args
            if (mode and any(letter in mode for letter in "wax+")) or (flags & WRITING):
                self.written.append(str(path))


_writes = WritesRecorder()


def test_uploads_leave_nothing_on_disk_or_in_the_logs(caplog, tmp_path, monkeypatch):
    """The app gets a private temp folder, so only its own files could appear there; and no file is opened for writing."""
    private_temp = tmp_path / "temp"
    private_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_temp))
    monkeypatch.setenv("TMPDIR", str(private_temp))
    client = create_app().server.test_client()
    made_by_the_app = set(private_temp.rglob("*"))  # Dash's job cache, made when the app is built: in RAM where /dev/shm exists
    _writes.recording, _writes.written = threading.get_ident(), []
    try:
        with caplog.at_level(logging.DEBUG):
            for name in ("astronaut.png", "group.jpg", "camera.png", "utkface_crop.jpg"):
                response = client.post("/api/v1/predict", data=(FIXTURES / name).read_bytes(), content_type="image/png")
                assert response.status_code == 200
                response = client.post("/api/v1/predict", data={"image": ((FIXTURES / name).open("rb"), name)}, content_type="multipart/form-data")
                assert response.status_code == 200
    finally:
        _writes.recording = None
    assert _writes.written == []
    assert set(private_temp.rglob("*")) == made_by_the_app
    _writes.recording = threading.get_ident()  # the recorder does see a write
    with open(tmp_path / "seen.txt", "w"):
        pass
    _writes.recording = None
    assert _writes.written == [str(tmp_path / "seen.txt")]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert '"route": "/api/v1/predict"' in logged  # the request is logged...
    for private in ("probabilities", "age_range", "White", "female", "base64", "\\x89PNG", "JFIF"):
        assert private not in logged  # ...but never its image or its predictions
