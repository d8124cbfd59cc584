"""The Procfile's server through restarts: SIGTERM drains without losing an accepted request, a killed worker is replaced fast."""

from __future__ import annotations

import pytest

from support.clients import sigkill_under_load, sigterm_under_load
from support.photos import PORTRAIT, benchmark_photos
from support.server import post, production_server

pytestmark = pytest.mark.subprocesses

CLIENTS = 6
EXIT_BOUND_S = 20
"""The server must exit this long after SIGTERM at the latest; a Heroku-style host kills it at 30 s."""
RESPAWN_BOUND_S = 5
"""After the worker is killed, the next 200 comes within this (preload: the new worker forks from a loaded master)."""


def test_sigterm_serves_every_connection_it_takes_and_exits_in_time():
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", photo)
        drain = sigterm_under_load(server, photo, CLIENTS, EXIT_BOUND_S)
    outcomes = drain.outcomes
    print(f"exit {drain.exited_s:.1f} s after SIGTERM; answered {len(outcomes.answered)}, refused {len(outcomes.refused)}")
    assert len(drain.explained.answered) == 1 and drain.explained.answered[0][1] > drain.signalled, drain.explained
    assert not outcomes.lost, f"accepted but not answered: {outcomes.lost}"
    assert outcomes.refused and len(outcomes.answered) > 20
    assert drain.exited_s < EXIT_BOUND_S


def test_a_killed_worker_is_replaced_and_no_request_hangs():
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", photo)
        respawn = sigkill_under_load(server, photo, CLIENTS, RESPAWN_BOUND_S + 5)
    assert not respawn.hung, "a request hung"
    assert respawn.next_200_s is not None and respawn.next_200_s < RESPAWN_BOUND_S, "no 200 after the kill"
    print(f"the next 200 {respawn.next_200_s:.2f} s after SIGKILL; lost in flight: {len(respawn.outcomes.lost)}")
    assert respawn.new_pid != respawn.killed_pid
    assert all("timed out" not in detail for _, detail in respawn.outcomes.lost)
