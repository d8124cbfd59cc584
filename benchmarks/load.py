"""Load test: 8 concurrent clients for 60 s against the Procfile's gunicorn server on loopback.

Usage: ``python -m benchmarks.load [--clients 8] [--seconds 60]`` (``make load``)

Clients alternate 1-megapixel portraits and 200x200 crops. Reports throughput, p50/p95/p99,
errors, and the server's memory after warm-up and at the end (a leak would show as growth).
Writes its section of ``benchmarks/results.md``. Clients run on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import publish, uploading, wait_for_warm_explainer
from support.photos import CROP, PORTRAIT, benchmark_photos
from support.server import RunningServer, procfile_line, production_server


def server_memory(server: RunningServer) -> tuple[float, float]:
    """(worker RSS, whole-server PSS) in MiB."""
    infos = [process.memory_full_info() for process in server.processes()]
    return max(info.rss for info in infos) / 2**20, sum(info.pss for info in infos) / 2**20


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of the same concurrent load before the measurement starts")
    args = parser.parse_args(argv)
    available = benchmark_photos()
    photos = [available[PORTRAIT], available[CROP]]
    with production_server() as server:
        url = f"{server.url}/api/v1/predict"
        wait_for_warm_explainer(server.url)
        # Warm up with the same concurrency: memory after a sequential warm-up would miss the
        # working set of several requests in flight at once and read as growth later.
        with uploading(url, photos, args.clients):
            time.sleep(args.warmup)
        rss_start, pss_start = server_memory(server)
        with uploading(url, photos, args.clients) as uploads:
            time.sleep(args.seconds)
        rss_end, pss_end = server_memory(server)
    latencies, errors, elapsed = uploads.latencies, uploads.errors, uploads.elapsed
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    lines = [
        f"{args.clients} clients for {args.seconds:.0f} s (after {args.warmup:.0f} s of the same load as warm-up) against the Procfile's `{procfile_line()}` on loopback,",
        "alternating a 1-megapixel portrait and a 200x200 crop; clients share the server's 2 cores.",
        "",
        "| requests | throughput | p50 | p95 | p99 | errors | worker RSS after warm-up | at the end | growth |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {len(latencies)} | {len(latencies) / elapsed:.1f} req/s | {p50:.0f} ms | {p95:.0f} ms | {p99:.0f} ms | {len(errors)} | {rss_start:.0f} MiB | {rss_end:.0f} MiB | {100 * (rss_end / rss_start - 1):+.1f}% |",
        "",
        f"Whole server (master + worker) PSS: {pss_start:.0f} MiB after warm-up, {pss_end:.0f} MiB at the end.",
    ]
    if errors:
        lines.append(f"First errors: {errors[:3]}")
    return publish("Load test", "python -m benchmarks.load (make load)", lines)


if __name__ == "__main__":
    main()
