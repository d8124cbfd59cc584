"""A 1 MP portrait and a 12 MP phone photo through the Procfile's server: this checkout against an earlier commit, interleaved.

A shared machine's speed drifts within an hour, so a p50 from today's ``make benchmark``
cannot be set against one in ``results.md`` from another run. Here both servers run in the
same minutes, in alternating rounds, each from its own checkout with this venv; what compares
is the ratio within each round. Each round also reads the cold start (process start to the
first prediction answered), the whole server's PSS after the requests (master and worker,
shared pages once, as a container counts them) and the worker's page faults per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import publish
from support import ROOT
from support.photos import PHONE, PORTRAIT, benchmark_photos
from support.server import minor_faults, post, production_server

WARM_UP = 5
PHOTOS = (PORTRAIT, PHONE)


@dataclass
class Reading:
    """One server's round: per photo, p50 over HTTP, the server's median detection time (ms) and page faults per request; then cold start and PSS."""

    photos: dict[str, tuple[float, float, float]]
    cold_start: float
    pss: int


def measure(root: Path, photos: dict[str, bytes], runs: int) -> Reading:
    with production_server(environment={"PYTHONPATH": str(root)}, root=root) as server:
        url = f"{server.url}/api/v1/predict"
        post(url, photos[PORTRAIT])
        cold_start = time.perf_counter() - server.started
        readings = {}
        for name, photo in photos.items():
            for _ in range(WARM_UP):
                post(url, photo)
            worker = server.worker()
            faults = minor_faults(worker)
            samples, detect = [], []
            for _ in range(runs):
                began = time.perf_counter()
                detect.append(json.loads(post(url, photo))["timings_ms"]["detect_ms"])
                samples.append(1000 * (time.perf_counter() - began))
            readings[name] = (statistics.median(samples), statistics.median(detect), (minor_faults(worker) - faults) / runs)
        pss = sum(process.memory_full_info().pss for process in server.processes())
        return Reading(readings, cold_start, pss)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.against_commit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=40, help="requests per server and round, after a warm-up of 5")
    args = parser.parse_args(argv)
    base = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    photos = {name: benchmark_photos()[name] for name in PHOTOS}
    rows, ratios = [], {name: [] for name in [*PHOTOS, "cold start", "PSS"]}
    with tempfile.TemporaryDirectory() as folder:
        checkout = Path(folder) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(checkout), base], cwd=ROOT, check=True)
        try:
            for round_ in range(1, args.rounds + 1):
                before, now = measure(checkout, photos, args.runs), measure(ROOT, photos, args.runs)
                for name in PHOTOS:
                    ratios[name].append(now.photos[name][0] / before.photos[name][0])
                    old, new = before.photos[name], now.photos[name]
                    rows.append(
                        f"| {round_} | {name} | {old[0]:.1f} / {old[1]:.1f} / {old[2]:.0f} | {new[0]:.1f} / {new[1]:.1f} / {new[2]:.0f} | {ratios[name][-1]:.2f} |"
                    )
                ratios["cold start"].append(now.cold_start / before.cold_start)
                ratios["PSS"].append(now.pss / before.pss)
                rows.append(f"| {round_} | cold start (s) | {before.cold_start:.2f} | {now.cold_start:.2f} | {ratios['cold start'][-1]:.2f} |")
                rows.append(f"| {round_} | server PSS (MiB) | {before.pss / 2**20:.0f} | {now.pss / 2**20:.0f} | {ratios['PSS'][-1]:.2f} |")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=True)
    lines = [
        f"`POST /api/v1/predict`, {args.runs} requests per photo, server and round after {WARM_UP} of warm-up; the two servers alternate.",
        "",
        f"| round | measure | commit {base}: p50 ms / detection ms / page faults per request | this checkout: the same | ratio |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Median of the rounds' ratios (this checkout / base): "
        + ", ".join(f"{name} {statistics.median(values):.2f}" for name, values in ratios.items())
        + ".",
    ]
    return publish("Against an earlier commit", f"python -m benchmarks.against_commit --base {base}", lines)


if __name__ == "__main__":
    main()
