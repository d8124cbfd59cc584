import json

import pytest

from support.photos import PORTRAIT, benchmark_photos
from support.server import minor_faults, post, production_server


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
