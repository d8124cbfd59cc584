import json

import psutil
import pytest

from support.photos import PORTRAIT, benchmark_photos
from support.server import post, production_server


@pytest.mark.subprocesses
def test_the_procfile_worker_reuses_freed_memory_between_requests():
    """gunicorn.conf.py keeps glibc from unmapping a request's buffers: the next request must not fault them back in.

    Without it the worker takes about 1,200 page faults per 1 MP portrait (measured); with it, about 10.
    """
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        url = f"{server.url}/api/v1/predict"
        for _ in range(5):
            assert len(json.loads(post(url, photo))["faces"]) == 1
        (worker,) = psutil.Process(server.process.pid).children()
        before = _minor_faults(worker.pid)
        for _ in range(20):
            post(url, photo)
        faults = (_minor_faults(worker.pid) - before) / 20
    assert faults < 200, f"{faults:.0f} page faults per request"


def _minor_faults(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[7])
