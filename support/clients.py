"""Clients that record how each request ended, for the restart tests and benchmark: answered, refused, or lost.

A Heroku-style router sends a refused connection elsewhere, but a connection that was accepted
and then reset is a lost request. Each request here goes on a fresh connection.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Outcomes:
    """How each request of the clients ended, with the time it was sent (``time.perf_counter``)."""

    answered: list[tuple[float, float]] = field(default_factory=list)
    """(sent, answered) of each complete 200."""
    refused: list[float] = field(default_factory=list)
    lost: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, sent: float, detail: str = "") -> None:
        with self.lock:
            if kind == "answered":
                self.answered.append((sent, time.perf_counter()))
            elif kind == "refused":
                self.refused.append(sent)
            else:
                self.lost.append((sent, detail))


def send(url: str, path: str, photo: bytes, outcomes: Outcomes, timeout: float = 60) -> None:
    """One request on a fresh connection: a complete 200, a refused connection, or a loss (reset, cut short, other status)."""
    parts = urlsplit(url)
    sent = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=photo, headers={"Content-Type": "image/jpeg", "Connection": "close"})
        response = connection.getresponse()
        body = response.read()
        if response.status == 200 and {"faces", "overlay_png"} & set(json.loads(body)):  # a whole prediction or explanation
            outcomes.add("answered", sent)
        else:
            outcomes.add("lost", sent, f"status {response.status}")
    except ConnectionRefusedError:
        outcomes.add("refused", sent)
        time.sleep(0.01)
    except (OSError, ValueError, http.client.HTTPException) as error:  # reset, cut short, or a body that is not whole JSON
        outcomes.add("lost", sent, repr(error))
    finally:
        connection.close()


def load(url: str, photo: bytes, outcomes: Outcomes, stop: threading.Event, client: int, explanations: bool = True) -> None:
    """Portraits back to back; with ``explanations``, one client in three asks for an explanation every fifth request."""
    count = 0
    while not stop.is_set():
        count += 1
        explain = explanations and client % 3 == 0 and count % 5 == 0
        send(url, "/api/v1/explain?target=gender" if explain else "/api/v1/predict", photo, outcomes)


@dataclass
class Drain:
    """What SIGTERM under load did: seconds to the server's exit, the clients' outcomes and the one explanation in flight at the signal."""

    exited_s: float
    outcomes: Outcomes
    explained: Outcomes
    signalled: float


def sigterm_under_load(server, photo: bytes, clients: int = 6, exit_bound_s: float = 20) -> Drain:
    """Clients sending photos, an explanation started just before the signal, SIGTERM to the master; wait for its exit.

    The clients send predictions only, so the explanation gets one of the worker's explanation slots.
    """
    outcomes, stop = Outcomes(), threading.Event()
    threads = [threading.Thread(target=load, args=(server.url, photo, outcomes, stop, client, False)) for client in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    explained = Outcomes()
    explanation = threading.Thread(target=send, args=(server.url, "/api/v1/explain?target=gender", photo, explained))
    explanation.start()
    time.sleep(0.2)  # the explanation is accepted and running (one takes most of a second)
    signalled = time.perf_counter()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=exit_bound_s)
    exited_s = time.perf_counter() - signalled
    time.sleep(0.5)  # requests sent after the exit are refused
    stop.set()
    for thread in [*threads, explanation]:
        thread.join()
    return Drain(exited_s, outcomes, explained, signalled)


@dataclass
class Respawn:
    """What SIGKILL of the worker under load did."""

    next_200_s: float | None
    outcomes: Outcomes
    hung: bool
    killed_pid: int
    new_pid: int


def sigkill_under_load(server, photo: bytes, clients: int = 6, wait_s: float = 10) -> Respawn:
    """Clients sending photos and explanations, SIGKILL to the worker; the time to the next complete 200."""
    outcomes, stop = Outcomes(), threading.Event()
    threads = [threading.Thread(target=load, args=(server.url, photo, outcomes, stop, client)) for client in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    worker = server.worker()
    killed = time.perf_counter()
    worker.send_signal(signal.SIGKILL)
    while time.perf_counter() - killed < wait_s and not any(sent > killed for sent, _ in outcomes.answered):
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    first = min((answered for sent, answered in outcomes.answered if sent > killed), default=None)
    return Respawn(None if first is None else first - killed, outcomes, any(thread.is_alive() for thread in threads), worker.pid, server.worker().pid)
