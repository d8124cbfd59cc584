"""How many model evaluations a SHAP explanation needs, and what one costs end to end.

Usage: ``python -m benchmarks.explain [--faces 10]``

Stability: for each budget, the correlation of the gender map with a reference map made
with 4,000 evaluations, over test-split-like faces from the fixtures' group photo and the
astronaut. Speed: ``POST /api/v1/explain`` as users get it, through the Procfile's gunicorn:
the first call after start, the median of the next ones, and what a prediction from another
client costs while explanations run. Writes its section of benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np

from benchmarks.common import publish
from model.attribution import MAX_EVALS, attribution_map, output_function
from model.decode import decode_image
from model.predictor import get_predictor
from support import FIXTURES
from support.photos import PORTRAIT, benchmark_photos
from support.server import post, procfile_line, production_server

BUDGETS = (100, 250, 500, 1000)
PREDICTIONS = 100
"""Predictions timed idle and again while explanations run: a p95 of 20 moved by 0.4x between runs."""
REFERENCE = 4000


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def served_explanations(runs: int) -> list[str]:
    """``POST /api/v1/explain`` through the Procfile's gunicorn: the first call, the steady state, and predictions meanwhile."""
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        explain_url, predict_url = f"{server.url}/api/v1/explain?target=gender", f"{server.url}/api/v1/predict"
        post(predict_url, photo)
        ready = time.perf_counter() - server.started
        first = timed(lambda: post(explain_url, photo))
        explained = [timed(lambda: post(explain_url, photo)) for _ in range(runs)]
        idle = [timed(lambda: post(predict_url, photo)) for _ in range(PREDICTIONS)]
        stop = threading.Event()

        def explain_continuously() -> None:
            while not stop.is_set():
                post(explain_url, photo)

        explainer = threading.Thread(target=explain_continuously)
        explainer.start()
        time.sleep(1.0)
        busy = [timed(lambda: post(predict_url, photo)) for _ in range(PREDICTIONS)]
        stop.set()
        explainer.join()
    idle_p95, busy_p95 = np.percentile(idle, 95), np.percentile(busy, 95)
    return [
        f"`POST /api/v1/explain` through the Procfile's `{procfile_line()}` on loopback ({PORTRAIT}; decode, detect, align, predict, explain, PNG):",
        "",
        f"- First call, sent as soon as the first prediction was answered ({ready:.1f} s after start): {first:.0f} ms",
        f"- Then: median {statistics.median(explained):.0f} ms over {runs} calls, p95 {np.percentile(explained, 95):.0f} ms",
        f"- `POST /api/v1/predict` ({PREDICTIONS} calls each) while explanations run back to back: p50 {statistics.median(busy):.0f} ms,"
        f" p95 {busy_p95:.0f} ms; idle: p50 {statistics.median(idle):.0f} ms, p95 {idle_p95:.0f} ms (p95 {busy_p95 / idle_p95:.1f}x idle)",
    ]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed API calls of each kind")
    args = parser.parse_args(argv)
    predictor = get_predictor()
    faces = predictor.predict(decode_image((FIXTURES / "group.jpg").read_bytes())) + predictor.predict(
        decode_image((FIXTURES / "astronaut.png").read_bytes())
    )
    rows = []
    for budget in (*BUDGETS, REFERENCE):
        maps, times = [], []
        for face in faces:
            evaluate, _ = output_function(predictor, face, "gender")
            started = time.perf_counter()
            maps.append(attribution_map(evaluate, predictor.face_pixels(face), budget))
            times.append(time.perf_counter() - started)
        rows.append((budget, maps, statistics.median(times)))
    reference = rows[-1][1]
    lines = [
        "",
        f"Stability against {REFERENCE} evaluations ({len(faces)} faces, gender map):",
        "",
        "| max_evals | correlation with reference (median) | explainer time per face (median) |",
        "|---|---|---|",
    ]
    for budget, maps, seconds in rows[:-1]:
        correlation = statistics.median(float(np.corrcoef(a.ravel(), b.ravel())[0, 1]) for a, b in zip(maps, reference, strict=True))
        lines.append(f"| {budget}{' (shipped)' if budget == MAX_EVALS else ''} | {correlation:.3f} | {1000 * seconds:.0f} ms |")
    lines += ["", *served_explanations(args.runs)]
    return publish("Explanation budget and speed", "python -m benchmarks.explain (make benchmark-explain)", lines)


if __name__ == "__main__":
    main()
