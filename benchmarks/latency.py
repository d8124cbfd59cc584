"""End-to-end latency, cold start and memory of the serving stack.

Usage: ``python -m benchmarks.latency [--runs 30]``

Times each benchmark photo through the Python API (decode + predict) and through the REST
API of the Procfile's gunicorn server on loopback; measures cold start (process start to the
first prediction answered) and the server's peak RSS. Prints a table and writes
``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from benchmarks.common import publish, wait_for_warm_explainer
from support.photos import benchmark_face, benchmark_photos
from support.server import RunningServer, high_water_mark, post, production_server

STAGES = ("decode_ms", "detect_ms", "align_ms", "predict_ms")
"""The stages the API reports in ``timings_ms``."""


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def python_api_latency(photos: dict[str, bytes], runs: int) -> dict[str, list[float]]:
    from model.decode import decode_image
    from model.predictor import get_predictor

    predictor = get_predictor()
    timings = {}
    for name, data in photos.items():
        predictor.predict(decode_image(data))  # warm-up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            predictor.predict(decode_image(data))
            samples.append(1000 * (time.perf_counter() - started))
        timings[name] = samples
    return timings


def network_latency(runs: int) -> list[float]:
    """Milliseconds per face of the shipped network alone (LiteRT, 2 threads, one face per call, its test-time views included)."""
    from model.predictor import get_predictor

    predictor = get_predictor()
    (face,) = predictor.predict(benchmark_face(), skip_detection=True)
    pixels = predictor.face_pixels(face)[None]
    predictor.network.predict(pixels)  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        predictor.network.predict(pixels)
        samples.append(1000 * (time.perf_counter() - started))
    return samples


class ServerMemory:
    """The largest single-process peak RSS, and the largest PSS of the whole process tree at the moments it is read.

    PSS counts pages shared after gunicorn's fork once, as the dyno's memory limit does;
    summing RSS over master and worker would count the preloaded model twice. Reading PSS
    makes the kernel walk every page table: about 11 ms of CPU per reading of this server, so
    sampled every 50 ms it took a tenth of the two cores from the requests being timed. It is
    read between photos instead; the peak RSS is the kernel's own high-water mark, which
    misses nothing.
    """

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.peak_rss = 0
        self.peak_pss = 0

    def read(self) -> None:
        running = [process for process in self.server.processes() if process.is_running()]
        self.peak_rss = max(self.peak_rss, *map(high_water_mark, running))
        self.peak_pss = max(self.peak_pss, sum(process.memory_full_info().pss for process in running))


def http_latency(photos: dict[str, bytes], runs: int) -> tuple[dict[str, list[float]], dict[str, dict[str, float]], float, ServerMemory]:
    """Per-photo samples, the server's median time per stage for each photo, cold start in seconds, and the server's memory.

    Timing starts once the worker's explainer warm-up is over: that background work would
    otherwise share the cores with the first requests.
    """
    with production_server() as server:
        memory = ServerMemory(server)
        url = f"{server.url}/api/v1/predict"
        post(url, next(iter(photos.values())))
        cold_start = time.perf_counter() - server.started
        wait_for_warm_explainer(server.url)
        timings, stages = {}, {}
        for name, data in photos.items():
            post(url, data)
            samples, reported = [], []
            for _ in range(runs):
                began = time.perf_counter()
                reported.append(json.loads(post(url, data))["timings_ms"])
                samples.append(1000 * (time.perf_counter() - began))
            timings[name] = samples
            stages[name] = {stage: statistics.median(report[stage] for report in reported) for stage in STAGES}
            memory.read()
        return timings, stages, cold_start, memory


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    photos = benchmark_photos()
    http, stages, cold_start, memory = http_latency(photos, args.runs)
    python = python_api_latency(photos, args.runs)
    network = network_latency(10 * args.runs)
    lines = [
        f"{args.runs} timed runs per photo after one warm-up; milliseconds.",
        "",
        "| photo | REST API p50 | REST API p95 | Python API p50 | Python API p95 | in the server: decode / detect / align / network (median) |",
        "|---|---|---|---|---|---|",
    ]
    for name in photos:
        http_p50, http_p95 = percentiles(http[name])
        python_p50, python_p95 = percentiles(python[name])
        breakdown = " / ".join(f"{stages[name][stage]:.0f}" for stage in STAGES)
        lines.append(f"| {name} | {http_p50:.0f} | {http_p95:.0f} | {python_p50:.0f} | {python_p95:.0f} | {breakdown} |")
    lines += [
        "",
        f"- The shipped network alone, per face (LiteRT, 2 threads, one face per call, {10 * args.runs} calls): median {statistics.median(network):.1f} ms (budget 25 ms)",
        f"- Cold start (gunicorn process start to the first prediction answered): {cold_start:.2f} s",
        f"- Peak RSS of the serving process (the gunicorn worker; kernel high-water mark): {memory.peak_rss / 2**20:.0f} MB",
        f"- Peak PSS of the whole server (master + worker, shared pages counted once; read after each photo's runs): {memory.peak_pss / 2**20:.0f} MB",
        f"- Median of all REST timings: {statistics.median([value for samples in http.values() for value in samples]):.0f} ms",
    ]
    return publish("Latency, cold start and memory", "python -m benchmarks.latency (make benchmark)", lines)


if __name__ == "__main__":
    main()
