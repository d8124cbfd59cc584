"""Corrupted uploads through the Procfile's gunicorn, not only the test client: a 2xx or 4xx every time, and the worker lives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from support.server import RunningServer, post_status, production_server
from tests.dashboard.test_abuse import mutated_image

pytestmark = pytest.mark.subprocesses


@pytest.fixture(scope="module")
def server() -> RunningServer:
    with production_server() as running:
        assert post_status(f"{running.url}/api/v1/predict", b"")[0] == 400  # answered: the worker is up (it forks after the socket listens)
        running.first_worker = running.worker().pid
        yield running


@given(mutated_image())
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_gunicorn_answers_mutated_images_with_2xx_or_4xx_and_keeps_its_worker(server, data):
    assert post_status(f"{server.url}/api/v1/predict", data, timeout=60)[0] in (200, 400, 413, 415)
    assert server.worker().pid == server.first_worker, "the worker died and was replaced"
