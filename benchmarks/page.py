"""Upload to charts in a real browser: what a person waits for after dropping a photo on the page.

Usage: ``python -m benchmarks.page [--runs 20]``  (needs Debian's chromium and chromium-driver)

Headless Chromium opens the dashboard served by the Procfile's gunicorn, and a photo is
dropped on the upload zone ``runs`` times (after one warm-up), alternating two encodings of
the 1 MP portrait so that each drop is a new file. Each time: from handing the file to the
page to the race chart of the first face drawn; and, from the browser's own resource timing,
the callback's round trip (request, server work, response) and the size of its answer.
Writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from benchmarks.common import publish, wait_for_warm_explainer
from support.browser import chromium
from support.photos import PORTRAIT, benchmark_photos
from support.server import production_server

CHART = ".face-card .race-chart .js-plotly-plot"
CALLBACK = "_dash-update-component"


def last_callback(driver) -> tuple[float, int]:
    """(duration in ms, bytes received) of the latest Dash callback request, from the browser's resource timing."""
    entry = driver.execute_script(
        f"const e = performance.getEntriesByType('resource').filter(r => r.name.includes('{CALLBACK}')).pop();return [e.duration, e.encodedBodySize];"
    )
    return float(entry[0]), int(entry[1])


def drop(driver, photo: Path) -> float:
    """Seconds from handing ``photo`` to the upload input to the first face's race chart on screen."""
    old = driver.find_elements(By.CSS_SELECTOR, CHART)
    started = time.perf_counter()
    driver.find_element(By.CSS_SELECTOR, "#upload-photo input[type=file]").send_keys(str(photo))
    wait = WebDriverWait(driver, 60, poll_frequency=0.005)  # Selenium's default polls every 0.5 s
    if old:
        wait.until(conditions.staleness_of(old[0]))
    wait.until(conditions.presence_of_element_located((By.CSS_SELECTOR, CHART)))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="face2data-page-"))
    photos = [folder / "portrait-a.jpg", folder / "portrait-b.jpg"]
    data = benchmark_photos()[PORTRAIT]
    photos[0].write_bytes(data)
    photos[1].write_bytes(data + b"\0")  # the same JPEG with one trailing byte: a different file, the same pixels
    waits, callbacks, sizes = [], [], []
    with production_server() as server, chromium() as driver:
        wait_for_warm_explainer(server.url)
        driver.get(server.url)
        WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "upload-photo")))
        drop(driver, photos[1])
        for run in range(args.runs):
            waits.append(1000 * drop(driver, photos[run % 2]))
            duration, size = last_callback(driver)
            callbacks.append(duration)
            sizes.append(size)
    median_wait, median_callback = statistics.median(waits), statistics.median(callbacks)
    lines = [
        f"Headless Chromium, the Procfile's gunicorn on loopback; {PORTRAIT} dropped {args.runs} times after one warm-up.",
        "",
        "| upload to charts (median) | p95 | the callback's round trip (median) | its answer | the rest: upload, rendering (median) |",
        "|---|---|---|---|---|",
        f"| {median_wait:.0f} ms | {sorted(waits)[int(0.95 * (len(waits) - 1))]:.0f} ms | {median_callback:.0f} ms | "
        f"{statistics.median(sizes) / 1024:.0f} KiB | {median_wait - median_callback:.0f} ms |",
    ]
    return publish("Upload to charts in Chromium", "python -m benchmarks.page (make benchmark-page)", lines)


if __name__ == "__main__":
    main()
