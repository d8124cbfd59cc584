"""How many model evaluations a SHAP explanation needs, and what one costs end to end.

Usage: ``python -m benchmarks.explain [--faces 10]``

Stability: for each budget, the correlation of the gender map with a reference map made
with 4,000 evaluations, over test-split-like faces from the fixtures' group photo and the
astronaut. Speed: the median time of ``POST /api/v1/explain`` through the Flask app (after a
warm-up call that pays for importing shap and numba's compilation). Writes its section of benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np

from benchmarks.latency import machine
from benchmarks.report import publish
from model.decode import decode_image
from model.explain import MAX_EVALS, attribution_map, output_function
from model.predictor import get_predictor
from support import FIXTURES

BUDGETS = (100, 250, 500, 1000)
REFERENCE = 4000


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed API calls")
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
        f"Machine: {machine()}.",
        "",
        f"Stability against {REFERENCE} evaluations ({len(faces)} faces, gender map):",
        "",
        "| max_evals | correlation with reference (median) | explainer time per face (median) |",
        "|---|---|---|",
    ]
    for budget, maps, seconds in rows[:-1]:
        correlation = statistics.median(float(np.corrcoef(a.ravel(), b.ravel())[0, 1]) for a, b in zip(maps, reference, strict=True))
        lines.append(f"| {budget}{' (shipped)' if budget == MAX_EVALS else ''} | {correlation:.3f} | {1000 * seconds:.0f} ms |")
    from dashboard.app import create_app

    client = create_app().server.test_client()
    photo = (FIXTURES / "astronaut.png").read_bytes()

    def call() -> float:
        started = time.perf_counter()
        response = client.post(
            "/api/v1/explain", data={"image": (io.BytesIO(photo), "a.png"), "target": "gender"}, content_type="multipart/form-data"
        )
        assert response.status_code == 200
        return time.perf_counter() - started

    call()
    api_times = [call() for _ in range(args.runs)]
    lines += [
        "",
        f"`POST /api/v1/explain` end to end (decode, detect, align, predict, explain, PNG): median {1000 * statistics.median(api_times):.0f} ms over {args.runs} calls, max {1000 * max(api_times):.0f} ms.",
    ]
    return publish("Explanation budget and speed", "python -m benchmarks.explain (make benchmark-explain)", lines)


if __name__ == "__main__":
    main()
