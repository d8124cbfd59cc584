"""Cancelling an explanation stops SHAP's work on the server, not only its display."""

import threading

import pytest

from dashboard.inflight import InFlight
from model.attribution import EXPLAIN_BATCH, SHAP_BATCH, ExplanationCancelled, explain_face
from model.decode import decode_image
from model.predictor import get_predictor


def test_a_cancelled_explanation_stops_at_its_next_batch(fixture_bytes):
    predictor = get_predictor()
    (face,) = predictor.predict(decode_image(fixture_bytes("astronaut.png")))
    cancelled = threading.Event()
    batches = []
    network = predictor.artifacts.explainer_network
    original = network.predict

    def counted(faces):
        batches.append(len(faces))
        if len(batches) == 3:
            cancelled.set()  # as a Cancel click would, from another thread, mid-explanation
        return original(faces)

    network.predict = counted
    try:
        with pytest.raises(ExplanationCancelled):
            explain_face(predictor, face, "gender", cancelled=cancelled)
    finally:
        del network.predict
    assert 3 <= len(batches) <= 3 + SHAP_BATCH // EXPLAIN_BATCH  # stopped within one of SHAP's batches, of ~63 network calls


def test_a_new_request_cancels_the_one_it_replaces_and_cancel_reaches_the_latest():
    running = InFlight()
    first = running.start("card")
    second = running.start("card")
    assert first.is_set() and not second.is_set()
    running.finish("card", first)  # the replaced request ends late: it must not unregister the new one
    assert "card" in running
    assert running.cancel("card") and second.is_set()
    running.finish("card", second)
    assert "card" not in running and not running.cancel("card")
