"""Explanations running in this process, by the token of the face card that asked for them.

A face card's Cancel button, or a second Explain click on the same card, must stop the
explanation already running for it, not only hide its result: SHAP would otherwise keep a
core busy for a second for nothing. Each card carries a random token (``explain_controls``);
the Explain callback registers an event under it and the explainer checks that event between
batches. With several gunicorn workers a Cancel can reach another process than the one
explaining: the result is still dropped, but that worker finishes its second of work.

Explanations are also bounded (``explanation_slot``): they run one at a time on the explainer
thread, and each one waiting holds a request thread and its photo. Past ``EXPLANATION_SLOTS``
at once (the app's own count, kept on its server), one more is refused with ``ExplainerBusy`` (HTTP 503 with ``Retry-After``), so
predictions keep threads to run on and the worker's memory stays bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

RETRY_AFTER_S = 2
"""What a refused explanation is told to wait: about two explanations' time."""


class ExplainerBusy(Exception):
    """Every explanation slot of this process is taken."""


class ExplanationSlots:
    """How many explanations this process runs or queues at once (``Settings.explanation_slots``).

    The Procfile's worker has 4 request threads; explanations may hold only some of them.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._free = threading.BoundedSemaphore(count)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold one slot while explaining, or raise ``ExplainerBusy`` at once."""
        if not self._free.acquire(blocking=False):
            raise ExplainerBusy(f"{self.count} explanations are already running or waiting")
        try:
            yield
        finally:
            self._free.release()


EXTENSION = "face2data_explanation_slots"
"""Where an app keeps its slots: ``server.extensions``, so that two apps in one process keep their own."""


def install_explanation_slots(server: Flask, count: int) -> ExplanationSlots:
    """Give ``server`` its own ``count`` slots; ``create_app`` calls it with its settings, before serving."""
    slots = server.extensions[EXTENSION] = ExplanationSlots(count)
    return slots


@contextmanager
def explanation_slot() -> Iterator[None]:
    """Hold one of the serving app's explanation slots while explaining, or raise ``ExplainerBusy`` at once."""
    with current_app.extensions[EXTENSION].hold():
        yield


class InFlight:
    """token -> the cancellation event of the explanation running for it."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, token: str) -> threading.Event:
        """Register a new explanation for ``token``, cancelling the one it replaces."""
        event = threading.Event()
        with self._lock:
            earlier = self._events.get(token)
            self._events[token] = event
        if earlier is not None:
            earlier.set()
        return event

    def cancel(self, token: str) -> bool:
        """Cancel the explanation running for ``token``; whether there was one."""
        with self._lock:
            event = self._events.get(token)
        if event is not None:
            event.set()
        return event is not None

    def finish(self, token: str, event: threading.Event) -> None:
        """Forget ``event``, unless a newer explanation has already taken its token."""
        with self._lock:
            if self._events.get(token) is event:
                del self._events[token]

    def __contains__(self, token: str) -> bool:
        with self._lock:
            return token in self._events
