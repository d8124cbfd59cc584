"""Photo uploads while a 100-photo batch runs: the batch inside the web worker against the batch on a Celery worker.

Usage: ``python -m benchmarks.load_with_batch [--clients 4] [--photos 100]`` (``make load-batch``)

Two deployments, each as the Procfile starts it on loopback: one ``web`` process alone (the
batch runs in a process its worker forks), and Redis with a ``worker`` and a ``web`` process
(``REDIS_URL``; the batch runs on the worker). In each, ``--clients`` clients post 1-megapixel
portraits and 200x200 crops to ``/api/v1/predict`` for 20 s with no batch, then again from the
moment headless Chromium drops ``--photos`` 1-megapixel photos on the Batch tab until their table
arrives. Reports p50 and p99 of the uploads in both phases and the batch's duration. Every
process shares this machine's 2 cores: on a platform the worker runs on a dyno of its own, so
this measures what moving the batch out of the web process gains, not what a second machine adds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from benchmarks.common import publish, uploading, wait_for_warm_explainer
from support.browser import chromium
from support.photos import CROP, PORTRAIT, benchmark_photos
from support.server import production_server
from support.services import celery_worker, redis_server


@contextmanager
def deployed(mode: str) -> Iterator[str]:
    """The base URL of the web process of ``mode``: ``single`` (one web process) or ``redis`` (Redis, a worker and a web process)."""
    with ExitStack() as stack:
        environment = {}
        if mode == "redis":
            environment = {"REDIS_URL": stack.enter_context(redis_server()).url}
            stack.enter_context(celery_worker(environment))
        server = stack.enter_context(production_server(environment=environment))
        wait_for_warm_explainer(server.url)
        yield server.url


def measure(mode: str, clients: int, batch: list[Path], photos: list[bytes], baseline_s: float) -> dict:
    """Upload latencies with no batch and during one batch of ``batch``, and the batch's duration, in deployment ``mode``."""
    with deployed(mode) as url, chromium() as driver:
        with uploading(f"{url}/api/v1/predict", photos, clients) as quiet:
            time.sleep(baseline_s)
        driver.get(url)
        WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "tabs")))
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "tab-batch"))
        with uploading(f"{url}/api/v1/predict", photos, clients) as busy:
            started = time.perf_counter()
            driver.find_element(By.CSS_SELECTOR, "#batch-upload input[type=file]").send_keys("\n".join(str(path) for path in batch))
            WebDriverWait(driver, 900).until(conditions.presence_of_element_located((By.ID, "batch-summary-line")))
            duration = time.perf_counter() - started
        assert f"{len(batch)} photos" in driver.find_element(By.ID, "batch-summary-line").text
    return {"baseline": quiet.latencies, "during": busy.latencies, "errors": len(quiet.errors) + len(busy.errors), "duration_s": duration}


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_with_batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--baseline", type=float, default=20, help="seconds of uploads with no batch, first")
    args = parser.parse_args(argv)
    available = benchmark_photos()
    photos = [available[PORTRAIT], available[CROP]]
    folder = Path(tempfile.mkdtemp(prefix="face2data-batch-"))
    batch = []
    for index in range(args.photos):
        path = folder / f"{index:03d}.jpg"
        path.write_bytes(available[PORTRAIT])
        batch.append(path)
    results = {mode: measure(mode, args.clients, batch, photos, args.baseline) for mode in ("single", "redis")}
    names = {"single": "one web process (the batch in a process it forks)", "redis": "Redis + Celery worker (the batch on the worker)"}
    lines = [
        f"{args.clients} clients posting a 1 MP portrait and a 200x200 crop in turn through the Procfile's processes on loopback: {args.baseline:.0f} s with no batch,",
        f"then while headless Chromium's {args.photos}-photo batch (1 MP each) runs, from the drop to its table. Every process shares the 2 cores.",
        "",
        "| deployment | uploads, no batch: p50 / p99 | during the batch: p50 / p99 | uploads during | batch duration | errors |",
        "|---|---|---|---|---|---|",
    ]
    for mode, row in results.items():
        quiet, busy = (np.percentile(row[phase], [50, 99]) for phase in ("baseline", "during"))
        lines.append(
            f"| {names[mode]} | {quiet[0]:.0f} / {quiet[1]:.0f} ms | {busy[0]:.0f} / {busy[1]:.0f} ms | {len(row['during'])} | {row['duration_s']:.1f} s | {row['errors']} |"
        )
    return publish("Uploads beside a batch", "python -m benchmarks.load_with_batch (make load-batch)", lines)


if __name__ == "__main__":
    main()
