"""Soak: tens of thousands of mixed requests through the Procfile's server; latency, errors and resources per time window.

Usage: ``python -m benchmarks.soak [--clients 6] [--minutes 15] [--requests 40000] [--window 60]`` (``make soak``)

Clients send a realistic mix, each on its own connection: 1 MP portraits, group photos, 12 MP
phone photos, 200 px crops, the test corpus's bad inputs (empty, truncated, not an image, a
decompression bomb) and an explanation every ``EXPLAIN_EVERY`` requests. The run stops at
``--requests`` or ``--minutes``, whichever comes first. Per window it reports p50 and p99 of the
well-formed requests, answers by status (an explanation refused past the server's bound, a 503
with ``Retry-After``, apart from other 5xx), and at the window's end the server's PSS (master and
worker, shared pages once, as a container counts them), threads and open file descriptors.
The first window is warm-up; the summary compares the PSS of the first and last thirds of the
rest. Writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from benchmarks.common import publish, wait_for_warm_explainer
from support import FIXTURES
from support.photos import CROP, GROUP, PHONE, PORTRAIT, SELFIE, benchmark_photos, jpeg
from support.server import RunningServer, post, post_status, production_server, resources

EXPLAIN_EVERY = 50
MIX = (PORTRAIT, PORTRAIT, PORTRAIT, CROP, CROP, SELFIE, GROUP, PHONE)
"""The photos in turn; every tenth request is a bad input instead."""


def bad_inputs() -> list[bytes]:
    portrait = benchmark_photos()[PORTRAIT]
    return [b"", portrait[: len(portrait) // 3], b"not an image at all", (FIXTURES / "bomb.png").read_bytes(), jpeg(Image.new("RGB", (8, 8)))]


@dataclass
class Window:
    """What the clients saw in one window, and the server's resources at its end."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    pss_mib: float = 0.0
    threads: int = 0
    descriptors: int = 0


class Soak:
    def __init__(self, server: RunningServer, window_s: float, limit: int, deadline: float) -> None:
        self.server, self.window_s, self.limit, self.deadline = server, window_s, limit, deadline
        self.photos, self.bad = benchmark_photos(), bad_inputs()
        self.windows: list[Window] = [Window()]
        self.sent = 0
        self.lock = threading.Lock()
        self.began = time.perf_counter()

    def next_request(self) -> tuple[str, bytes, bool] | None:
        """(path, body, well-formed) of the next request, or None when the run is over."""
        with self.lock:
            if self.sent >= self.limit or time.perf_counter() > self.deadline:
                return None
            self.sent += 1
            number = self.sent
        if number % EXPLAIN_EVERY == 0:
            return "/api/v1/explain?target=gender", self.photos[PORTRAIT], True
        if number % 10 == 0:
            return "/api/v1/predict", self.bad[number // 10 % len(self.bad)], False
        return "/api/v1/predict", self.photos[MIX[number % len(MIX)]], True

    def client(self) -> None:
        while (request := self.next_request()) is not None:
            path, body, well_formed = request
            began = time.perf_counter()
            status, headers = post_status(f"{self.server.url}{path}", body)
            if status == 503 and headers.get("Retry-After") and "explain" in path:
                status = "503, explainer busy"
            elapsed = 1000 * (time.perf_counter() - began)
            with self.lock:
                window = self.windows[-1]
                window.statuses[status] += 1
                if well_formed and status == 200 and not path.startswith("/api/v1/explain"):
                    window.latencies.append(elapsed)

    def watch(self, clients: list[threading.Thread]) -> None:
        """Close a window every ``window_s`` seconds, reading the server's resources, until the clients are done."""
        while any(client.is_alive() for client in clients):
            time.sleep(min(self.window_s, 0.5))
            if time.perf_counter() - self.began >= self.window_s * len(self.windows):
                self.close_window()
        self.close_window()

    def close_window(self) -> None:
        pss, threads, descriptors = resources(self.server)
        with self.lock:
            window = self.windows[-1]
            window.pss_mib, window.threads, window.descriptors = pss, threads, descriptors
            self.windows.append(Window())


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--window", type=float, default=60, help="seconds per reported window")
    args = parser.parse_args(argv)
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", benchmark_photos()[PORTRAIT])
        wait_for_warm_explainer(server.url)
        soak = Soak(server, args.window, args.requests, time.perf_counter() + 60 * args.minutes)
        clients = [threading.Thread(target=soak.client) for _ in range(args.clients)]
        for client in clients:
            client.start()
        soak.watch(clients)
        workers = len(server.processes()) - 1
    windows = [window for window in soak.windows if window.statuses]
    lines = [
        f"{args.clients} clients, each request on its own connection, against the Procfile's server on loopback; "
        f"a window every {args.window:.0f} s. Mix: portraits, crops, group photos, 12 MP photos, one bad input in ten, an explanation every {EXPLAIN_EVERY}.",
        "",
        "| window | requests | p50 ms | p99 ms | answers by status | server PSS MiB | threads | open files |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, window in enumerate(windows, start=1):
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(window.statuses.items(), key=str))
        p50, p99 = np.percentile(window.latencies, [50, 99]) if window.latencies else (float("nan"), float("nan"))
        lines.append(
            f"| {number}{' (warm-up)' if number == 1 else ''} | {sum(window.statuses.values())} | {p50:.0f} | {p99:.0f} | {statuses} | "
            f"{window.pss_mib:.0f} | {window.threads} | {window.descriptors} |"
        )
    steady = windows[1:] or windows
    third = max(1, len(steady) // 3)
    first, last = np.mean([w.pss_mib for w in steady[:third]]), np.mean([w.pss_mib for w in steady[-third:]])
    total = Counter()
    for window in windows:
        total.update(window.statuses)
    server_errors = sum(count for status, count in total.items() if isinstance(status, int) and status >= 500)
    unanswered = sum(count for status, count in total.items() if str(status).startswith("no answer"))
    requests = f"{sum(total.values())} requests in {time.perf_counter() - soak.began:.0f} s; answers of 5xx: {server_errors}, besides "
    refused = f"{total['503, explainer busy']} explanations refused past `EXPLANATION_SLOTS` with `Retry-After`"
    threads = f"Threads {min(w.threads for w in steady)}-{max(w.threads for w in steady)}"
    files = f"open files {min(w.descriptors for w in steady)}-{max(w.descriptors for w in steady)} over the steady windows"
    facts = (
        f"{requests}{refused}; no answer: {unanswered}; worker processes at the end: {workers}",
        f"Server PSS, first third of the steady windows against the last: {first:.0f} -> {last:.0f} MiB ({100 * (last / first - 1):+.1f}%)",
        f"{threads}, {files}",
    )
    lines += ["", *(f"- {fact}" for fact in facts)]
    return publish("Soak", "python -m benchmarks.soak (make soak)", lines)


if __name__ == "__main__":
    main()
