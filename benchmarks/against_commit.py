"""The 1 MP portrait through the Procfile's server: this checkout against an earlier commit, interleaved.

This VM's speed drifts by 10-20% within an hour (the host's other tenants), so a p50 from
today's ``make benchmark`` cannot be set against one in ``results.md`` from another run. Here
both servers run in the same minutes, in alternating rounds, each from its own checkout with
this venv; what compares is the ratio within each round. It also counts the worker's page
faults per request, the cost that ``gunicorn.conf.py``'s memory settings remove.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.latency import machine
from benchmarks.report import publish
from support import ROOT
from support.photos import PORTRAIT, benchmark_photos
from support.server import minor_faults, post, production_server

WARM_UP = 5


def measure(root: Path, photo: bytes, runs: int) -> tuple[float, float, float]:
    """p50 over HTTP (ms), the server's own median detection time (ms) and the worker's page faults per request."""
    with production_server(environment={"PYTHONPATH": str(root)}, root=root) as server:
        url = f"{server.url}/api/v1/predict"
        for _ in range(WARM_UP):
            post(url, photo)
        worker = server.worker()
        faults = minor_faults(worker)
        samples, detect = [], []
        for _ in range(runs):
            began = time.perf_counter()
            detect.append(json.loads(post(url, photo))["timings_ms"]["detect_ms"])
            samples.append(1000 * (time.perf_counter() - began))
        return statistics.median(samples), statistics.median(detect), (minor_faults(worker) - faults) / runs


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.against_commit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=40, help="requests per server and round, after a warm-up of 5")
    args = parser.parse_args(argv)
    base = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    photo = benchmark_photos()[PORTRAIT]
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as folder:
        checkout = Path(folder) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(checkout), base], cwd=ROOT, check=True)
        try:
            for round_ in range(1, args.rounds + 1):
                before, now = measure(checkout, photo, args.runs), measure(ROOT, photo, args.runs)
                ratios.append(now[0] / before[0])
                rows.append(
                    f"| {round_} | {before[0]:.1f} / {before[1]:.1f} / {before[2]:.0f} | {now[0]:.1f} / {now[1]:.1f} / {now[2]:.0f} | {ratios[-1]:.2f} |"
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=True)
    lines = [
        f"Machine: {machine()}. {PORTRAIT}, `POST /api/v1/predict`, {args.runs} requests per server and round after {WARM_UP} of warm-up; the two servers alternate.",
        "",
        f"| round | commit {base}: p50 ms / detection ms / page faults per request | this checkout: the same | p50 ratio |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Median of the rounds' p50 ratios: {statistics.median(ratios):.2f}.",
    ]
    return publish("Against an earlier commit", f"python -m benchmarks.against_commit --base {base}", lines)


if __name__ == "__main__":
    main()
