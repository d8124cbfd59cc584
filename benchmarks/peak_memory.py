"""The server's memory at its worst: 4 explanation clients and 8 prediction clients at once, against the 512 MB dyno.

Usage: ``python -m benchmarks.peak_memory [--seconds 60]`` (``make benchmark-peak``)

Prediction clients cycle through every benchmark photo (12 MP ones included); explanation
clients ask for gender maps of the 1 MP portrait back to back. The server's PSS (master and
worker, shared pages once, as a container counts them) is read every 0.1 s. Explanations past
``EXPLANATION_SLOTS`` are refused with 503 and counted. Writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter

from benchmarks.common import publish, wait_for_warm_explainer
from dashboard.settings import Settings
from support.photos import PORTRAIT, benchmark_photos
from support.server import post, post_status, production_server, resources

PREDICTORS, EXPLAINERS = 8, 4
DYNO_MIB = 512


def client(url: str, photos: list[bytes], deadline: float, statuses: Counter, lock: threading.Lock) -> None:
    index = 0
    while time.perf_counter() < deadline:
        status, _ = post_status(url, photos[index % len(photos)])
        with lock:
            statuses[status] += 1
        index += 1


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peak_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    photos = benchmark_photos()
    predictions, explanations, lock = Counter(), Counter(), threading.Lock()
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", photos[PORTRAIT])
        wait_for_warm_explainer(server.url)
        idle = resources(server)[0]
        deadline = time.perf_counter() + args.seconds
        threads = [
            *(
                threading.Thread(target=client, args=(f"{server.url}/api/v1/predict", list(photos.values()), deadline, predictions, lock))
                for _ in range(PREDICTORS)
            ),
            *(
                threading.Thread(target=client, args=(f"{server.url}/api/v1/explain?target=gender", [photos[PORTRAIT]], deadline, explanations, lock))
                for _ in range(EXPLAINERS)
            ),
        ]
        for thread in threads:
            thread.start()
        peak = idle
        while any(thread.is_alive() for thread in threads):
            peak = max(peak, resources(server)[0])
            time.sleep(0.1)
    slots = Settings.from_environ().explanation_slots
    setting = f"{PREDICTORS} prediction clients (every benchmark photo in turn, 12 MP included) and {EXPLAINERS} explanation clients"
    target = "within" if peak <= 450 else "over"
    by_status = {"Predictions": predictions, "Explanations (503: refused past the slots, with Retry-After)": explanations}
    lines = [f"{setting} for {args.seconds:.0f} s against the Procfile's server on loopback; `EXPLANATION_SLOTS` = {slots}.", ""]
    lines.append(
        f"- Server PSS (master + worker, shared pages once), read every 0.1 s: {idle:.0f} MiB idle, peak {peak:.0f} MiB ({target} the 450 MiB target for a {DYNO_MIB} MB dyno)"
    )
    lines += [f"- {what} by status: {dict(sorted(counts.items(), key=str))}" for what, counts in by_status.items()]
    return publish("Peak memory under mixed load", "python -m benchmarks.peak_memory (make benchmark-peak)", lines)


if __name__ == "__main__":
    main()
