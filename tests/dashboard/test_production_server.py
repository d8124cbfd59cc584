import json

import pytest

from support.photos import PORTRAIT, benchmark_photos
from support.server import minor_faults, post, production_server, thread_times


@pytest.mark.subprocesses
def test_the_procfile_worker_reuses_freed_memory_between_requests():
    """gunicorn.conf.py keeps glibc from unmapping a request's buffers: the next request must not fault them back in.

    Without it the worker takes about 1,200 page faults per 1 MP portrait (`make benchmark-against`); with it, 10-80.
    """
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        url = f"{server.url}/api/v1/predict"
        for _ in range(5):
            assert len(json.loads(post(url, photo))["faces"]) == 1
        worker = server.worker()
        before = minor_faults(worker)
        for _ in range(20):
            post(url, photo)
        faults = (minor_faults(worker) - before) / 20
    assert faults < 200, f"{faults:.0f} page faults per request"


@pytest.mark.subprocesses
def test_explanations_run_at_a_lower_priority_than_predictions():
    """The explainer thread and the LiteRT threads it starts yield the CPU to predictions from other clients."""
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", photo)
        worker = server.worker()
        before = thread_times(worker)
        post(f"{server.url}/api/v1/explain?target=gender", photo)
        after = thread_times(worker)
    used = {tid: after[tid][1] - before.get(tid, (0, 0))[1] for tid in after}
    base = after[worker.pid][0]
    lowered = {tid for tid, (nice, _) in after.items() if nice > base}
    assert len(lowered) >= 2, "the explainer thread and its interpreter's worker at the lower priority"
    assert sum(used[tid] for tid in lowered) > 0.7 * sum(used.values())
